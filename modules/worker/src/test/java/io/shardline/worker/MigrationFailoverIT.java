package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.TopicTable;
import io.shardline.controlplane.TopicTail;
import io.shardline.core.key.KeyHex;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.avro.AddStandby;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * The source of a migration is killed while its range is being copied, or its target while the migration catches up:
 * the shard is marked DOWN, the migration waits, the shard's standby is promoted, and the migration goes on from where
 * it was against the new address and ends: a failed-over target gets the copy anew. With durability STANDBY no
 * acknowledged write is lost.
 */
@ShardlineCluster
class MigrationFailoverIT {

    @Test
    void shouldFinishAMigrationWhoseSourceFailedOverDuringTheCopy(EmbeddedCluster cluster, TestNames names) throws Exception {
        String sourceId = "m" + UUID.randomUUID().toString().substring(0, 6);
        EmbeddedShard source = cluster.addShard(sourceId);
        EmbeddedShard standby = EmbeddedShard.start(sourceId + "-standby");
        AtomicBoolean killed = new AtomicBoolean();
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5), List.of(sourceId, "s2"), List.of(sourceId, sourceId));
             TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), false, fixture.catalog.controlDlq().name(), "test");
             TopicTable<ShardDescriptor> shards = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.shards(), fixture.catalog.controlDlq().name(), "test");
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withConnectUrl(cluster.connectUrl()).withCopyBatchSize(50).withCopyStreams(1),
                 new SimpleMeterRegistry(), state -> {
                     if (state.getPhase() == MigrationPhase.COPYING && killed.compareAndSet(false, true)) {
                         CompletableFuture.runAsync(source::stopAnswering);
                     }
                 })) {
            for (int i = 0; i < 3_000; i++) {
                fixture.router.insert(MigrationFixture.TENANT, fixture.namespace, List.of(new Document("_id", "p" + i).append("userId", "p" + i).append("v", 0)));
            }
            fixture.send(AddStandby.newBuilder().setShardId(sourceId).setConnectionString(standby.connectionString()).build());
            FailoverIT.await(() -> standby.connectionString().equals(shards.refresh().get(sourceId).getStandbyConnectionString()), Duration.ofSeconds(90),
                "the standby added");
            MigrationFixture.Load load = fixture.new Load(2, 2);
            for (int i = 0; i < 3_000; i++) {
                load.acknowledged.put("p" + i, 0);
            }
            Thread.sleep(1_000);
            String command = fixture.send(MoveChunk.newBuilder().setNamespace(fixture.namespace)
                .setChunkMin(KeyHex.bytes(fixture.chunks.get(0).min().toHex())).setTargetShardId("s2").build());

            ShardEvent failedOver = FailoverIT.awaitEvent(events, ShardEventType.SHARD_FAILED_OVER, sourceId, Duration.ofSeconds(60));
            // The migration's source-side deletion, recorded on the dead source, is on the promoted standby too.
            MigrationState during = fixture.migrationOf(command);
            List<String> tasks = new java.util.ArrayList<>();
            try (com.mongodb.client.MongoClient promoted = com.mongodb.client.MongoClients.create(standby.connectionString())) {
                promoted.getDatabase(io.shardline.worker.plane.RangeDeletions.DATABASE).getCollection(io.shardline.worker.plane.RangeDeletions.COLLECTION)
                    .find().forEach(task -> tasks.add(task.toJson()));
            }
            MigrationState end = fixture.awaitMigration(command, m -> m.getPhase() == MigrationPhase.CLEANED || m.getPhase() == MigrationPhase.ABORTED,
                Duration.ofMinutes(3));
            load.close();
            fixture.repoint(sourceId, standby.connectionString());

            Map<String, Integer> held = new HashMap<>();
            for (String shard : List.of(sourceId, "s2")) {
                fixture.documents(shard).forEach((id, doc) -> held.merge(id, doc.getInteger("v", -2), (a, b) -> -99));
            }
            Map<String, Boolean> lost = FailoverIT.lost(load, held, FailoverIT.captured(fixture, sourceId));
            System.out.printf("source failed over during the copy (%s); the migration ended %s; %d acknowledged writes, %d lost: %s%n",
                failedOver.getFigures(), end.getPhase(), load.writes.get(), lost.size(), lost.keySet());

            assertThat(killed).as("the source killed during the copy").isTrue();
            assertThat(during.getPhase()).as("the migration when the source failed over").isNotEqualTo(MigrationPhase.CLEANED);
            assertThat(tasks).as("range deletions on the promoted standby").anyMatch(task -> task.contains(during.getMigrationId()) && task.contains("SOURCE"));
            assertThat(failedOver.getFigures().get("migrationRecords")).isGreaterThanOrEqualTo(1.0);
            assertThat(end.getPhase()).isIn(MigrationPhase.CLEANED, MigrationPhase.ABORTED);
            assertThat(held).as("no document on both shards").doesNotContainValue(-99);
            assertThat(lost).as("acknowledged writes lost (durability STANDBY)").isEmpty();
            assertThat(load.writes.get()).isGreaterThan(100);
        } finally {
            FailoverIT.deleteFailoverConnectors(cluster, sourceId);
            standby.close();
            cluster.removeShard(sourceId);
        }
    }

    @Test
    void shouldFinishAMigrationWhoseTargetFailedOverDuringTheCatchUp(EmbeddedCluster cluster, TestNames names) throws Exception {
        String targetId = "t" + UUID.randomUUID().toString().substring(0, 6);
        EmbeddedShard target = cluster.addShard(targetId);
        EmbeddedShard standby = EmbeddedShard.start(targetId + "-standby");
        AtomicBoolean killed = new AtomicBoolean();
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5), List.of("s2", targetId), List.of("s2", "s2"));
             TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), false, fixture.catalog.controlDlq().name(), "test");
             TopicTable<ShardDescriptor> shards = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.shards(), fixture.catalog.controlDlq().name(), "test");
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withConnectUrl(cluster.connectUrl()), new SimpleMeterRegistry(), state -> {
                 if (state.getPhase() == MigrationPhase.CATCHING_UP && killed.compareAndSet(false, true)) {
                     CompletableFuture.runAsync(target::stopAnswering);
                 }
             })) {
            for (int i = 0; i < 2_000; i++) {
                fixture.router.insert(MigrationFixture.TENANT, fixture.namespace, List.of(new Document("_id", "p" + i).append("userId", "p" + i).append("v", 0)));
            }
            fixture.send(AddStandby.newBuilder().setShardId(targetId).setConnectionString(standby.connectionString()).build());
            FailoverIT.await(() -> standby.connectionString().equals(shards.refresh().get(targetId).getStandbyConnectionString()), Duration.ofSeconds(90),
                "the target's standby added");
            MigrationFixture.Load load = fixture.new Load(2, 2);
            for (int i = 0; i < 2_000; i++) {
                load.acknowledged.put("p" + i, 0);
            }
            Thread.sleep(1_000);
            String command = fixture.send(MoveChunk.newBuilder().setNamespace(fixture.namespace)
                .setChunkMin(KeyHex.bytes(fixture.chunks.get(0).min().toHex())).setTargetShardId(targetId).build());

            ShardEvent failedOver = FailoverIT.awaitEvent(events, ShardEventType.SHARD_FAILED_OVER, targetId, Duration.ofSeconds(60));
            MigrationState during = fixture.migrationOf(command);
            MigrationState end = fixture.awaitMigration(command, m -> m.getPhase() == MigrationPhase.CLEANED || m.getPhase() == MigrationPhase.ABORTED,
                Duration.ofMinutes(3));
            load.close();
            fixture.repoint(targetId, standby.connectionString());

            Map<String, Integer> held = new HashMap<>();
            for (String shard : List.of("s2", targetId)) {
                fixture.documents(shard).forEach((id, doc) -> held.merge(id, doc.getInteger("v", -2), (a, b) -> -99));
            }
            Map<String, Boolean> lost = FailoverIT.lost(load, held, FailoverIT.captured(fixture, "s2"));
            System.out.printf("target failed over during the catch-up (%s); the migration ended %s; %d acknowledged writes, %d lost: %s%n",
                failedOver.getFigures(), end.getPhase(), load.writes.get(), lost.size(), lost.keySet());

            assertThat(killed).as("the target killed during the catch-up").isTrue();
            assertThat(during.getPhase()).as("the migration when the target failed over").isNotEqualTo(MigrationPhase.CLEANED);
            assertThat(end.getPhase()).as("copied anew to the promoted target").isEqualTo(MigrationPhase.CLEANED);
            assertThat(end.getTargetFailedOverAt()).as("the failover the copy was made again for")
                .isEqualTo(shards.refresh().get(targetId).getFailedOverAt());
            assertThat(held).as("no document on both shards").doesNotContainValue(-99);
            assertThat(lost).as("acknowledged writes lost").isEmpty();
            assertThat(load.writes.get()).isGreaterThan(100);
        } finally {
            FailoverIT.deleteFailoverConnectors(cluster, targetId);
            standby.close();
            cluster.removeShard(targetId);
        }
    }

    @Test
    void shouldCutOverOnlyOnceTheTargetsStandbyHoldsWhatTheMigrationWroteThere(EmbeddedCluster cluster, TestNames names) throws Exception {
        String targetId = "c" + UUID.randomUUID().toString().substring(0, 6);
        EmbeddedShard target = cluster.addShard(targetId);
        EmbeddedShard standby = EmbeddedShard.start(targetId + "-standby");
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5), List.of("s2", targetId), List.of("s2", "s2"));
             TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), false, fixture.catalog.controlDlq().name(), "test");
             TopicTable<ShardDescriptor> shards = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.shards(), fixture.catalog.controlDlq().name(), "test");
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withConnectUrl(cluster.connectUrl()), new SimpleMeterRegistry())) {
            for (int i = 0; i < 500; i++) {
                fixture.router.insert(MigrationFixture.TENANT, fixture.namespace, List.of(new Document("_id", "p" + i).append("userId", "p" + i).append("v", 0)));
            }
            fixture.send(AddStandby.newBuilder().setShardId(targetId).setConnectionString(standby.connectionString()).build());
            FailoverIT.await(() -> standby.connectionString().equals(shards.refresh().get(targetId).getStandbyConnectionString()), Duration.ofSeconds(90),
                "the target's standby added");
            String sink = io.shardline.standby.StandbySinkConnector.name(targetId);
            cluster.connect().rest().stop(sink);
            FailoverIT.await(() -> stopped(cluster, sink), Duration.ofSeconds(30), "the standby's sink stopped");

            String command = fixture.send(MoveChunk.newBuilder().setNamespace(fixture.namespace)
                .setChunkMin(KeyHex.bytes(fixture.chunks.get(0).min().toHex())).setTargetShardId(targetId).build());
            ShardEvent unfenced = awaitReason(events, "the standby of " + targetId + " had not applied", Duration.ofSeconds(90));
            MigrationState held = fixture.migrationOf(command);
            cluster.connect().rest().resume(sink);
            MigrationState end = fixture.awaitMigration(command, m -> m.getPhase() == MigrationPhase.CLEANED || m.getPhase() == MigrationPhase.ABORTED,
                Duration.ofMinutes(3));
            System.out.printf("with the target's standby applying nothing, the fence was lifted: %s; once it ran again the migration ended %s%n",
                unfenced.getReason(), end.getPhase());

            assertThat(held.getPhase()).as("not cut over while the standby lacked the copy").isNotIn(MigrationPhase.CUT_OVER, MigrationPhase.CLEANED);
            assertThat(held.getCutOverAt()).isNull();
            assertThat(end.getPhase()).isEqualTo(MigrationPhase.CLEANED);
            try (com.mongodb.client.MongoClient promoted = com.mongodb.client.MongoClients.create(standby.connectionString())) {
                int dot = fixture.namespace.indexOf('.');
                assertThat(promoted.getDatabase(fixture.namespace.substring(0, dot)).getCollection(fixture.namespace.substring(dot + 1))
                    .countDocuments(new Document("_id", new Document("$regex", "^p")))).as("the copy on the target's standby")
                    .isEqualTo(fixture.documents(targetId).keySet().stream().filter(id -> id.startsWith("p")).count());
            }
        } finally {
            FailoverIT.deleteFailoverConnectors(cluster, targetId);
            standby.close();
            cluster.removeShard(targetId);
        }
    }

    private static boolean stopped(EmbeddedCluster cluster, String connector) {
        try {
            return "STOPPED".equals(cluster.connect().rest().state(connector));
        } catch (Exception e) {
            return false;
        }
    }

    private static ShardEvent awaitReason(TopicTail<ShardEvent> events, String reason, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (TopicTail.Appended<ShardEvent> appended : events.poll(Duration.ofMillis(100))) {
                if (appended.value().getReason() != null && appended.value().getReason().contains(reason)) {
                    return appended.value();
                }
            }
        }
        throw new AssertionError("no event saying '" + reason + "' within " + timeout);
    }
}
