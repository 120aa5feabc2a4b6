package io.shardline.bench;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controller.ControllerConfig;
import io.shardline.controller.ControllerNode;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;

/**
 * How far the CDC-derived size of a shard drifts from the shard's own {@code dbStats} after many mixed writes
 * (inserts, updates that grow and shrink documents, deletes), with the dbStats correction switched off, and how
 * long the CDC-derived table takes to settle after the last write.
 */
final class DriftBench {

    private final int operations;

    DriftBench(double scale) {
        this.operations = BenchMain.scaled(100_000, scale);
    }

    List<String> run() throws Exception {
        EmbeddedClusterConfig config = EmbeddedClusterConfig.defaults(Files.createTempDirectory("shardline-drift-")).withShards(1);
        try (EmbeddedCluster cluster = EmbeddedCluster.start(config);
             MongoClient client = MongoClients.create(cluster.shards().get("s1").connectionString());
             ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), cluster.catalog())) {
            publisher.publishShard(ShardDescriptor.newBuilder().setShardId("s1").setConnectionString(cluster.shards().get("s1").connectionString())
                .setCapacityBytes(1L << 30).setCapacityOpsPerSec(10_000).setState(ShardState.ACTIVE).setVersion(1)
                .setUpdatedAt(java.time.Instant.now()).build());
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            ControllerConfig controllerConfig = ControllerConfig.defaults(cluster.bootstrapServers(), cluster.catalog(),
                Files.createTempDirectory("shardline-drift-state-")).withDbStatsInterval(Duration.ofHours(1));
            try (ControllerNode controller = ControllerNode.start(controllerConfig, meters, Duration.ofSeconds(60))) {
                MongoCollection<Document> users = client.getDatabase("drift").getCollection("users");
                Random random = new Random(3);
                int inserted = 0;
                int updates = 0;
                int deletes = 0;
                List<Document> batch = new ArrayList<>();
                for (int i = 0; i < operations; i++) {
                    int choice = random.nextInt(10);
                    if (choice < 5 || inserted < 100) {
                        batch.add(new Document("_id", inserted++).append("pad", "x".repeat(random.nextInt(200))));
                        if (batch.size() == 500) {
                            users.insertMany(batch);
                            batch = new ArrayList<>();
                        }
                    } else {
                        if (!batch.isEmpty()) {
                            users.insertMany(batch);
                            batch = new ArrayList<>();
                        }
                        int id = random.nextInt(inserted);
                        if (choice < 9) {
                            users.updateOne(Filters.eq("_id", id), Updates.set("pad", "y".repeat(random.nextInt(300))));
                            updates++;
                        } else {
                            users.deleteOne(Filters.eq("_id", id));
                            deletes++;
                        }
                    }
                }
                if (!batch.isEmpty()) {
                    users.insertMany(batch);
                }
                long written = System.nanoTime();
                Document truth = client.getDatabase("drift").runCommand(new Document("dbStats", 1));
                long truthDocs = ((Number) truth.get("objects")).longValue();
                long truthBytes = ((Number) truth.get("dataSize")).longValue();
                double docs = -1;
                double bytes = -1;
                long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
                while (System.nanoTime() < deadline) {
                    Gauge documents = meters.find("shard.document.count").tag("shard", "s1").gauge();
                    Gauge volume = meters.find("shard.data.volume").tag("shard", "s1").gauge();
                    docs = documents == null ? -1 : documents.value();
                    bytes = volume == null ? -1 : volume.value();
                    if (docs == truthDocs && bytes == truthBytes) {
                        break;
                    }
                    Thread.sleep(100);
                }
                double settleSeconds = (System.nanoTime() - written) / 1e9;
                return List.of(String.format("after %d mixed operations (%d inserts, %d updates, %d deletes): dbStats %d docs / %d bytes,"
                        + " CDC-derived %.0f docs / %.0f bytes, drift %.0f docs / %.0f bytes; settled %.1f s after the last write",
                    operations, inserted, updates, deletes, truthDocs, truthBytes, docs, bytes, docs - truthDocs, bytes - truthBytes, settleSeconds));
            }
        }
    }
}
