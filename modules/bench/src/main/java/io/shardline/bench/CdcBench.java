package io.shardline.bench;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.bson.Document;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.shard.EmbeddedShard;

/**
 * CDC end to end on the embedded cluster (real broker, Connect, Debezium, one shard): latency from the shard write
 * to the record being readable by a Kafka consumer at a paced rate (p50/p99/max), and events/s of a burst, next
 * to the shard's own insert rate for the same burst (ratio = how much of the shard's write rate CDC keeps up with).
 */
final class CdcBench {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final int pacedEvents;
    private final int pacedRate;
    private final int burst;

    CdcBench(double scale) {
        this.pacedEvents = BenchMain.scaled(5_000, scale);
        this.pacedRate = 500;
        this.burst = BenchMain.scaled(50_000, scale);
    }

    List<String> run() throws Exception {
        List<String> lines = new ArrayList<>();
        EmbeddedClusterConfig config = EmbeddedClusterConfig.defaults(Files.createTempDirectory("shardline-bench-"))
            .withShards(1).withSchemaRegistry(false);
        long begin = System.nanoTime();
        try (EmbeddedCluster cluster = EmbeddedCluster.start(config)) {
            lines.add(String.format("cluster.startup_ms=%d (broker, Connect, Debezium connector, 1 shard; no registry)",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin)));
            EmbeddedShard shard = cluster.shards().get("s1");
            try (MongoClient client = MongoClients.create(shard.connectionString());
                 KafkaConsumer<String, String> consumer = consumer(cluster.bootstrapServers())) {
                MongoCollection<Document> paced = client.getDatabase("bench").getCollection("paced");
                consumer.subscribe(List.of("cdc.s1.bench.paced", "cdc.s1.bench.burst"));
                consumer.poll(Duration.ofMillis(100));

                long[] latencies = pacedLatencies(paced, consumer);
                Arrays.sort(latencies);
                lines.add(String.format("cdc.latency_ms p50=%d p99=%d max=%d (n=%d at %d writes/s, shard write -> consumer poll)",
                    latencies[latencies.length / 2], latencies[(int) (latencies.length * 0.99)], latencies[latencies.length - 1],
                    latencies.length, pacedRate));

                MongoCollection<Document> burstColl = client.getDatabase("bench").getCollection("burst");
                long start = System.nanoTime();
                List<Document> batch = new ArrayList<>(1000);
                for (int i = 0; i < burst; i++) {
                    batch.add(ShardBench.user("b-" + i, i));
                    if (batch.size() == 1000) {
                        burstColl.insertMany(batch);
                        batch = new ArrayList<>(1000);
                    }
                }
                if (!batch.isEmpty()) {
                    burstColl.insertMany(batch);
                }
                double writeRate = ShardBench.perSecond(burst, System.nanoTime() - start);
                int seen = 0;
                while (seen < burst) {
                    for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                        if (record.topic().endsWith("burst")) {
                            seen++;
                        }
                    }
                }
                double cdcRate = ShardBench.perSecond(burst, System.nanoTime() - start);
                lines.add(String.format("cdc.events_per_s=%.0f shard.inserts_per_s=%.0f ratio=%.2f (burst of %d inserts, until all consumed)",
                    cdcRate, writeRate, cdcRate / writeRate, burst));
            }
        }
        return lines;
    }

    private long[] pacedLatencies(MongoCollection<Document> coll, KafkaConsumer<String, String> consumer) throws Exception {
        long[] latencies = new long[pacedEvents];
        long intervalNanos = TimeUnit.SECONDS.toNanos(1) / pacedRate;
        Thread writer = new Thread(() -> {
            long next = System.nanoTime();
            for (int i = 0; i < pacedEvents; i++) {
                coll.insertOne(new Document("_id", i).append("writtenAtMillis", System.currentTimeMillis()));
                next += intervalNanos;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    try {
                        TimeUnit.NANOSECONDS.sleep(sleep);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }, "paced-writer");
        writer.start();
        java.util.BitSet delivered = new java.util.BitSet(pacedEvents);
        Map<Integer, String> firstCopy = new java.util.HashMap<>();
        int seen = 0;
        while (seen < pacedEvents) {
            for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(50))) {
                long now = System.currentTimeMillis();
                JsonNode envelope = JSON.readTree(record.value());
                JsonNode after = JSON.readTree(envelope.path("after").asText());
                int id = after.path("_id").asInt();
                if (delivered.get(id)) {
                    throw new IllegalStateException("document " + id + " delivered twice: " + record.value()
                        + " at offset " + record.offset() + "; first copy " + firstCopy.get(id));
                }
                firstCopy.put(id, record.offset() + " " + record.value());
                delivered.set(id);
                latencies[seen++] = now - after.path("writtenAtMillis").path("$numberLong").asLong(after.path("writtenAtMillis").asLong());
            }
        }
        writer.join();
        return latencies;
    }

    private static KafkaConsumer<String, String> consumer(String bootstrap) {
        return new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ConsumerConfig.GROUP_ID_CONFIG, "bench-" + UUID.randomUUID(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class));
    }
}
