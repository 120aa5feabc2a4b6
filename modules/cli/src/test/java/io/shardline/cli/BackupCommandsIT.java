package io.shardline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.key.ShardKeyStrategies;
import io.shardline.core.key.ShardKeyStrategy;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.CdcTopics;
import io.shardline.testing.ShardlineClusterExtension;
import io.shardline.testing.TestNames;
import io.shardline.worker.MigrationWorker;
import io.shardline.worker.config.WorkerConfig;

/**
 * Backups and restores driven as an operator would, with the CLI: a backup of a shard; an operator's mistake (documents
 * deleted) undone with an in-place restore to the moment before it; then the shard lost, its latest state restored
 * into a fresh shard, and that shard made the owner of the lost one's chunks with {@code replace-shard}.
 */
@ExtendWith(ShardlineClusterExtension.class)
class BackupCommandsIT {

    @Test
    void shouldUndoAMistakeInPlaceAndReplaceALostShardFromItsRestore(EmbeddedCluster cluster, TestNames names) throws Exception {
        TopicCatalog catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        String lost = "dr" + UUID.randomUUID().toString().substring(0, 6);
        cluster.addShard(lost);
        String ns = names.database() + ".users";
        ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), List.of("s1", lost), List.of(ns), (short) 1);
        NamespaceConfig config = NamespaceConfig.newBuilder().setNamespace(ns).setStrategy(ShardKeyStrategyType.HASHED)
            .setShardKeyFields(List.of("userId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build();
        ShardKeyStrategy strategy = ShardKeyStrategies.of(config);
        Path dir = Files.createTempDirectory("backups-");
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog);
             ControlPlaneClient plane = new ControlPlaneClient(cluster.bootstrapServers(), catalog);
             MongoClient shard = MongoClients.create(cluster.shards().get(lost).connectionString());
             EmbeddedShard replacement = EmbeddedShard.start("replacement");
             MigrationWorker worker = MigrationWorker.start(WorkerConfig.defaults(cluster.bootstrapServers(), catalog)
                 .withGroupId(names.applicationId("workers")), new SimpleMeterRegistry())) {
            for (String id : List.of("s1", lost)) {
                publisher.publishShard(descriptor(id, cluster.shards().get(id).connectionString()));
            }
            publisher.publishConfig(config);
            publisher.publishRouting(ns, InitialChunks.layout(ns, 1, List.of(), List.of(lost)));
            MongoCollection<Document> users = shard.getDatabase(names.database()).getCollection("users");
            Map<String, Integer> expected = new HashMap<>();
            for (int i = 0; i < 200; i++) {
                insert(users, strategy, "u" + i, i, expected);
            }

            CliRun backup = run(cluster, catalog, "backup", "--shard", lost, "--to", dir.toString(), "--gzip");
            assertThat(backup.exit()).as(backup.out() + backup.err()).isZero();
            assertThat(backup.out()).contains("backup ", " of " + lost, ns, "200 documents");
            for (int i = 200; i < 250; i++) {
                insert(users, strategy, "u" + i, i, expected);
            }
            users.updateOne(Filters.eq("_id", "u3"), Updates.set("v", 3_000));
            expected.put("u3", 3_000);
            Thread.sleep(100);
            long beforeMistake = System.currentTimeMillis();
            Thread.sleep(100);
            users.deleteMany(Filters.in("_id", List.of("u10", "u11", "u12", "u210")));
            CdcTopics.awaitSettled(cluster.bootstrapServers(), TopicCatalog.cdcTopic(lost, ns));

            CliRun unconfirmed = run(cluster, catalog, "restore", "--shard", lost, "--from", dir.toString(), "--at", Long.toString(beforeMistake), "--in-place");
            assertThat(unconfirmed.exit()).isEqualTo(2);
            assertThat(unconfirmed.err()).contains("--yes");
            CliRun undo = run(cluster, catalog, "restore", "--shard", lost, "--from", dir.toString(), "--at", Instant.ofEpochMilli(beforeMistake).toString(),
                "--in-place", "--yes");
            assertThat(undo.exit()).as(undo.out() + undo.err()).isZero();
            assertThat(contents(users)).as("the mistake undone in place").isEqualTo(expected);

            insert(users, strategy, "u300", 300, expected);
            CliRun listed = run(cluster, catalog, "backups", "--dir", dir.toString(), "--positions");
            assertThat(listed.out()).contains(lost, ".. now", "resume token");
            CdcTopics.awaitSettled(cluster.bootstrapServers(), TopicCatalog.cdcTopic(lost, ns));
            cluster.removeShard(lost);

            CliRun restore = run(cluster, catalog, "restore", "--shard", lost, "--from", dir.toString(), "--latest", "--into", replacement.connectionString());
            assertThat(restore.exit()).as(restore.out() + restore.err()).isZero();
            assertThat(restore.out()).contains("restored " + lost, "from backup ");
            publisher.publishShard(descriptor("replacement", replacement.connectionString()));
            CliRun refused = run(cluster, catalog, "replace-shard", "--shard", lost, "--with", "nope");
            assertThat(refused.exit()).isEqualTo(2);
            assertThat(refused.err()).contains("--with");
            CliRun replaced = run(cluster, catalog, "replace-shard", "--shard", lost, "--with", "replacement", "--wait", "--wait-timeout", "1m");
            assertThat(replaced.exit()).as(replaced.out() + replaced.err()).isZero();
            assertThat(replaced.out()).contains("replaced by replacement");
            assertThat(plane.routing(ns)).extracting(r -> r.getShardId()).containsOnly("replacement");
            try (MongoClient restored = MongoClients.create(replacement.connectionString())) {
                assertThat(contents(restored.getDatabase(names.database()).getCollection("users"))).isEqualTo(expected);
            }
        } finally {
            if (cluster.shards().containsKey(lost)) {
                cluster.removeShard(lost);
            }
        }
    }

    private static CliRun run(EmbeddedCluster cluster, TopicCatalog catalog, String... args) {
        return CliRun.of(cluster, catalog, args);
    }

    private static ShardDescriptor descriptor(String id, String uri) {
        return ShardDescriptor.newBuilder().setShardId(id).setConnectionString(uri).setCapacityBytes(1L << 30).setCapacityOpsPerSec(100_000)
            .setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build();
    }

    private static void insert(MongoCollection<Document> users, ShardKeyStrategy strategy, String id, int v, Map<String, Integer> expected) {
        Document doc = new Document("_id", id).append("userId", id).append("v", v);
        users.insertOne(doc.append("_sk", strategy.keyOf(doc).toHex()));
        expected.put(id, v);
    }

    private static Map<String, Integer> contents(MongoCollection<Document> users) {
        Map<String, Integer> found = new HashMap<>();
        for (Document doc : users.find(Filters.exists("_sk")).into(new ArrayList<>())) {
            found.put(doc.getString("_id"), doc.getInteger("v"));
        }
        return found;
    }
}
