package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.backup.ClusterBackups;
import io.shardline.backup.ShardBackup;
import io.shardline.backup.ShardRestore;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.TopicTail;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.FindRequest;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ReplaceShard;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.CdcTopics;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * Disaster recovery end to end: a shard holding one of a namespace's two chunks is backed up under a write load, the
 * load goes on, the shard is lost (stopped with its connector); its latest state is restored from the backup and its
 * CDC topic into a fresh shard, which a ReplaceShard command makes the owner of the lost shard's chunks. A
 * replacement without the restore is refused first. The router then serves every acknowledged write.
 */
@ShardlineCluster
class ShardReplacementIT {

    @Test
    void shouldServeTheRestoredShardAfterItReplacesTheLostOne(EmbeddedCluster cluster, TestNames names) throws Exception {
        String lost = "lost" + UUID.randomUUID().toString().substring(0, 6);
        cluster.addShard(lost);
        Path backups = Files.createTempDirectory("backups");
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5), List.of("s1", "s2", lost), List.of("s1", lost));
             MigrationWorker worker = fixture.worker(fixture.workerConfig());
             ControlPlaneClient plane = new ControlPlaneClient(cluster.bootstrapServers(), fixture.catalog, "test");
             EmbeddedShard replacement = EmbeddedShard.start("replacement");
             EmbeddedShard stale = EmbeddedShard.start("stale")) {
            ClusterBackups clusterBackups = new ClusterBackups(plane, new ShardBackup.Settings(backups, false, Duration.ofSeconds(60)), "test",
                new SimpleMeterRegistry());
            MigrationFixture.Load load = fixture.new Load(2, 3);
            Thread.sleep(1_500);
            clusterBackups.backup(lost, null);
            Thread.sleep(1_000);
            long earlier = System.currentTimeMillis();
            Thread.sleep(500);
            load.close();
            CdcTopics.awaitSettled(cluster.bootstrapServers(), TopicCatalog.cdcTopic(lost, fixture.namespace));
            cluster.removeShard(lost);

            ShardRestore.Result restored = clusterBackups.restore(new ShardRestore.Request(lost, ShardRestore.LATEST, null, null,
                replacement.connectionString(), false));
            assertThat(restored.base()).startsWith("backup ");
            plane.publisher().publishShard(descriptor("replacement", replacement.connectionString()));
            clusterBackups.restore(new ShardRestore.Request(lost, earlier, null, null, stale.connectionString(), false));
            plane.publisher().publishShard(descriptor("stale", stale.connectionString()));

            try (TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), false, fixture.catalog.controlDlq().name(), "test")) {
                String refused = fixture.send(ReplaceShard.newBuilder().setShardId(lost).setReplacementShardId("s2").build());
                assertThat(await(events, refused).getType()).isEqualTo(ShardEventType.COMMAND_REJECTED);
                String behind = fixture.send(ReplaceShard.newBuilder().setShardId(lost).setReplacementShardId("stale").build());
                ShardEvent staleOutcome = await(events, behind);
                assertThat(staleOutcome.getType()).as("a restore to an earlier moment misses changes").isEqualTo(ShardEventType.COMMAND_REJECTED);
                assertThat(staleOutcome.getReason()).contains("restore --latest again");
                String replaced = fixture.send(ReplaceShard.newBuilder().setShardId(lost).setReplacementShardId("replacement").build());
                ShardEvent outcome = await(events, replaced);
                assertThat(outcome.getType()).as(outcome.getReason()).isEqualTo(ShardEventType.COMMAND_ACCEPTED);
            }
            assertThat(fixture.route(fixture.chunks.get(1).min().toHex()).getShardId()).isEqualTo("replacement");
            assertThat(plane.shards().get(lost).getState()).isEqualTo(ShardState.RETIRED);

            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            Map<String, Integer> expected = new java.util.HashMap<>(load.acknowledged);
            expected.keySet().removeAll(load.uncertain.keySet());
            expected.values().removeIf(value -> value < 0);
            Map<String, Integer> served = Map.of();
            while (System.nanoTime() < deadline) {
                served = new java.util.HashMap<>();
                for (Document document : fixture.router.find(MigrationFixture.TENANT, fixture.namespace, FindRequest.of(new Document())).documents()) {
                    served.put(document.getString("_id"), document.getInteger("v"));
                }
                if (served.entrySet().containsAll(expected.entrySet())) {
                    break;
                }
                Thread.sleep(200);
            }
            assertThat(expected).isNotEmpty();
            assertThat(served).as("every acknowledged write served through the router").containsAllEntriesOf(expected);
            List<String> deleted = load.acknowledged.entrySet().stream().filter(e -> e.getValue() < 0 && !load.uncertain.containsKey(e.getKey()))
                .map(Map.Entry::getKey).toList();
            assertThat(served).as("no acknowledged delete undone").doesNotContainKeys(deleted.toArray(String[]::new));
            assertThat(fixture.documents("s1").size() + BackupFixtureCounts.count(replacement.connectionString(), fixture.namespace))
                .as("no document twice").isEqualTo(served.size());
        } finally {
            if (cluster.shards().containsKey(lost)) {
                cluster.removeShard(lost);
            }
        }
    }

    private static ShardDescriptor descriptor(String id, String uri) {
        return ShardDescriptor.newBuilder().setShardId(id).setConnectionString(uri).setCapacityBytes(1L << 30).setCapacityOpsPerSec(100_000)
            .setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build();
    }

    private static ShardEvent await(TopicTail<ShardEvent> events, String commandId) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (var appended : events.poll(Duration.ofMillis(200))) {
                ShardEvent event = appended.value();
                if (commandId.equals(event.getCommandId())
                    && (event.getType() == ShardEventType.COMMAND_ACCEPTED || event.getType() == ShardEventType.COMMAND_REJECTED)) {
                    return event;
                }
            }
        }
        throw new AssertionError("no outcome of command " + commandId);
    }

    /** Documents with a shard key on a shard. */
    static final class BackupFixtureCounts {
        static long count(String connectionString, String namespace) {
            int dot = namespace.indexOf('.');
            try (var client = com.mongodb.client.MongoClients.create(connectionString)) {
                return client.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1))
                    .countDocuments(com.mongodb.client.model.Filters.exists("_sk"));
            }
        }
    }
}
