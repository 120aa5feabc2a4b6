package io.shardline.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.bson.Document;
import org.bson.RawBsonDocument;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.client.model.Updates;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.backup.BackupManifest;
import io.shardline.backup.ClusterBackups;
import io.shardline.backup.ShardBackup;
import io.shardline.backup.ShardRestore;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.key.ShardKeyStrategies;
import io.shardline.core.key.ShardKeyStrategy;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.shard.EmbeddedShard;

/**
 * Backup and restore rates, each beside its baseline on the same shard in the same run: a backup against a raw full
 * scan of the collection with the driver, a restore's load against a raw {@code insertMany} of the same documents
 * into a fresh shard, and the replay of the CDC topic (changes applied per second) against the shard's own update rate.
 */
final class BackupBench {

    private static final String NS = "bench.backup";
    private static final int BATCH = 1_000;

    private final int documents;
    private final int changes;

    BackupBench(double scale) {
        this.documents = BenchMain.scaled(50_000, scale);
        this.changes = BenchMain.scaled(20_000, scale);
    }

    List<String> run() throws Exception {
        List<String> lines = new ArrayList<>();
        Path work = Files.createTempDirectory("shardline-backup-bench-");
        try (EmbeddedCluster cluster = EmbeddedCluster.start(EmbeddedClusterConfig.defaults(work).withShards(1));
             ControlPlaneClient plane = new ControlPlaneClient(cluster.bootstrapServers(), cluster.catalog(), "bench")) {
            TopicCatalog catalog = cluster.catalog();
            ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
            ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), List.of("s1"), List.of(NS), (short) 1);
            NamespaceConfig config = NamespaceConfig.newBuilder().setNamespace(NS).setStrategy(ShardKeyStrategyType.HASHED)
                .setShardKeyFields(List.of("userId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build();
            ControlPlanePublisher publisher = plane.publisher();
            String uri = cluster.shards().get("s1").connectionString();
            publisher.publishShard(ShardDescriptor.newBuilder().setShardId("s1").setConnectionString(uri).setCapacityBytes(1L << 34)
                .setCapacityOpsPerSec(100_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
            publisher.publishConfig(config);
            publisher.publishRouting(NS, InitialChunks.layout(NS, 1, InitialChunks.hashedBoundaries(4), List.of("s1", "s1", "s1", "s1")));
            List<Document> all = documents(ShardKeyStrategies.of(config));
            try (MongoClient client = MongoClients.create(uri)) {
                MongoCollection<Document> collection = client.getDatabase("bench").getCollection("backup");
                for (int from = 0; from < all.size(); from += BATCH) {
                    collection.insertMany(all.subList(from, Math.min(all.size(), from + BATCH)), new InsertManyOptions().ordered(false));
                }
                MigrationBench.awaitCdc(cluster, TopicCatalog.cdcTopic("s1", NS), documents);

                double scanSeconds = scan(client.getDatabase("bench").getCollection("backup", RawBsonDocument.class));
                ClusterBackups backups = new ClusterBackups(plane, new ShardBackup.Settings(work.resolve("backups"), false, Duration.ofSeconds(120)),
                    "bench", new SimpleMeterRegistry());
                long started = System.nanoTime();
                BackupManifest manifest = backups.backup("s1", List.of(NS));
                double backupSeconds = (System.nanoTime() - started) / 1e9;
                long bytes = manifest.dump(NS).bytes();
                lines.add(String.format("backup.docs_per_s=%.0f (%.1f MB/s) raw_scan.docs_per_s=%.0f ratio=%.2f (%d documents, %.1f MB; the backup's time "
                        + "includes its marker's trip through the CDC topic)", documents / backupSeconds, bytes / 1e6 / backupSeconds, documents / scanSeconds,
                    scanSeconds / backupSeconds, documents, bytes / 1e6));

                long updatesStarted = System.nanoTime();
                for (int i = 0; i < changes; i++) {
                    collection.updateOne(Filters.eq("_id", "u" + (i % documents)), Updates.set("v", -i - 1));
                }
                double updateSeconds = (System.nanoTime() - updatesStarted) / 1e9;
                MigrationBench.awaitCdc(cluster, TopicCatalog.cdcTopic("s1", NS), manifest.dump(NS).consistentOffset() + changes + 1);

                double insertSeconds;
                try (EmbeddedShard raw = EmbeddedShard.start("raw"); MongoClient rawClient = MongoClients.create(raw.connectionString())) {
                    MongoCollection<Document> target = rawClient.getDatabase("bench").getCollection("backup");
                    long insertStarted = System.nanoTime();
                    for (int from = 0; from < all.size(); from += BATCH) {
                        target.insertMany(all.subList(from, Math.min(all.size(), from + BATCH)), new InsertManyOptions().ordered(false));
                    }
                    insertSeconds = (System.nanoTime() - insertStarted) / 1e9;
                }
                try (EmbeddedShard fresh = EmbeddedShard.start("restored")) {
                    ShardRestore.NamespaceResult result = backups.restore(new ShardRestore.Request("s1", ShardRestore.LATEST, manifest.backupId(),
                        List.of(NS), fresh.connectionString(), false)).namespaces().get(0);
                    double loadSeconds = result.loadMillis() / 1e3;
                    double replaySeconds = result.replayMillis() / 1e3;
                    lines.add(String.format("restore.load.docs_per_s=%.0f raw_insertMany.docs_per_s=%.0f ratio=%.2f", result.loaded() / loadSeconds,
                        documents / insertSeconds, insertSeconds / loadSeconds));
                    lines.add(String.format("restore.replay.events_per_s=%.0f shard.updates_per_s=%.0f ratio=%.2f (%d changes replayed from the CDC topic)",
                        result.changesApplied() / replaySeconds, changes / updateSeconds, updateSeconds / replaySeconds, result.changesApplied()));
                    if (result.documents() != documents) {
                        throw new IllegalStateException("restored " + result.documents() + " documents, not " + documents);
                    }
                }
            }
        }
        return lines;
    }

    private List<Document> documents(ShardKeyStrategy strategy) {
        List<Document> all = new ArrayList<>(documents);
        String padding = "x".repeat(200);
        for (int i = 0; i < documents; i++) {
            Document doc = new Document("_id", "u" + i).append("userId", "u" + i).append("v", i).append("profile", new Document("bio", padding));
            doc.append("_sk", strategy.keyOf(doc).toHex());
            all.add(doc);
        }
        return all;
    }

    private static double scan(MongoCollection<RawBsonDocument> collection) {
        long started = System.nanoTime();
        long count = 0;
        try (MongoCursor<RawBsonDocument> cursor = collection.find().batchSize(BATCH).iterator()) {
            while (cursor.hasNext()) {
                cursor.next();
                count++;
            }
        }
        if (count == 0) {
            throw new IllegalStateException("nothing to scan");
        }
        return (System.nanoTime() - started) / 1e9;
    }
}
