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
 * The source of a migration is killed while its range is being copied: the shard is marked DOWN, the migration waits,
 * the shard's standby is promoted, and the migration goes on from where it was against the new address and ends. No
 * acknowledged write is lost but ones the source's CDC topic never captured before it died.
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
            assertThat(lost).as("lost writes the CDC topic had captured").doesNotContainValue(true);
            assertThat(load.writes.get()).isGreaterThan(100);
        } finally {
            FailoverIT.deleteFailoverConnectors(cluster, sourceId);
            standby.close();
            cluster.removeShard(sourceId);
        }
    }
}
