package io.shardline.bench;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKeyStrategies;
import io.shardline.core.key.ShardKeyStrategy;
import io.shardline.core.routing.Chunk;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.worker.MigrationWorker;
import io.shardline.worker.config.WorkerConfig;

/**
 * A chunk move on the embedded cluster, one run per size (100k and 1M documents): the copy rate next to a raw
 * {@code insertMany} of the same documents into the same target shard under the same write load (ratio), the write stall a load generator sees
 * through the router while the range is fenced (p50/p99/max), and the total move time from the command to the
 * cutover.
 */
final class MigrationBench {

    private final List<Integer> sizes;

    MigrationBench(double scale) {
        this.sizes = List.of(BenchMain.scaled(100_000, scale), BenchMain.scaled(1_000_000, scale));
    }

    List<String> run() throws Exception {
        List<String> lines = new ArrayList<>();
        // Each shard's oplog holds three times the largest move: the target takes the baseline's documents and the
        // copy's at insertMany speed, faster than its connector reads them, as a replica set is sized for its bulk loads.
        int largest = sizes.stream().mapToInt(Integer::intValue).max().orElse(0);
        EmbeddedClusterConfig config = EmbeddedClusterConfig.defaults(Files.createTempDirectory("shardline-migration-")).withShards(2)
            .withOplogRetentionEntries(Math.max(io.shardline.shard.EmbeddedShardConfig.DEFAULT_OPLOG_RETENTION, 3 * largest));
        try (EmbeddedCluster cluster = EmbeddedCluster.start(config);
             ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), cluster.catalog());
             MongoClient s1 = MongoClients.create(cluster.shards().get("s1").connectionString());
             MongoClient s2 = MongoClients.create(cluster.shards().get("s2").connectionString());
             KafkaProducer<String, ShardCommand> commands = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                 cluster.bootstrapServers()), cluster.catalog().commands().keySerde().serializer(), cluster.catalog().commands().valueSerde().serializer())) {
            TopicCatalog catalog = cluster.catalog();
            for (String shard : List.of("s1", "s2")) {
                publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shard).setConnectionString(cluster.shards().get(shard).connectionString())
                    .setCapacityBytes(1L << 34).setCapacityOpsPerSec(1_000_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
            }
            Map<MigrationPhase, Long> entered = new ConcurrentHashMap<>();
            java.util.concurrent.atomic.AtomicLong copiedBytes = new java.util.concurrent.atomic.AtomicLong();
            WorkerConfig workerConfig = WorkerConfig.defaults(cluster.bootstrapServers(), catalog).withGracePeriod(Duration.ofSeconds(1));
            SimpleMeterRegistry workerMeters = new SimpleMeterRegistry();
            try (MigrationWorker worker = MigrationWorker.start(workerConfig, workerMeters,
                state -> {
                    entered.putIfAbsent(state.getPhase(), System.nanoTime());
                    if (state.getPhase() == MigrationPhase.CATCHING_UP) {
                        copiedBytes.set(state.getCopiedBytes());
                    }
                })) {
                for (int run = 0; run < sizes.size(); run++) {
                    int size = sizes.get(run);
                    String ns = "bench.move" + run;
                    NamespaceConfig namespace = NamespaceConfig.newBuilder().setNamespace(ns).setStrategy(ShardKeyStrategyType.HASHED)
                        .setShardKeyFields(List.of("userId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build();
                    publisher.publishConfig(namespace);
                    publisher.publishRouting(ns, List.of(Chunk.active(ns, KeyRange.ALL, "s1", 1, 1)));
                    ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), List.of("s1", "s2"), List.of(ns, "bench.scratch" + run), (short) 1);
                    ShardKeyStrategy strategy = ShardKeyStrategies.of(namespace);
                    MongoCollection<Document> source = s1.getDatabase("bench").getCollection("move" + run);
                    List<Document> batch = new ArrayList<>();
                    for (int i = 0; i < size; i++) {
                        Document doc = new Document("_id", "d" + i).append("userId", "u" + i).append("tenantId", "acme").append("n", i)
                            .append("pad", "x".repeat(64));
                        doc.append("_sk", strategy.keyOf(doc).toHex());
                        batch.add(doc);
                        if (batch.size() == 1_000) {
                            source.insertMany(batch);
                            batch = new ArrayList<>();
                        }
                        if ((i + 1) % 50_000 == 0) {
                            // Keep the connector within 200k events of the load, as a loader pacing itself to CDC would.
                            awaitCdc(cluster, TopicCatalog.cdcTopic("s1", ns), i + 1 - 200_000);
                        }
                    }
                    if (!batch.isEmpty()) {
                        source.insertMany(batch);
                    }
                    awaitCdc(cluster, TopicCatalog.cdcTopic("s1", ns), size);

                    try (ShardRouter router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), catalog)
                        .withFenceBudget(Duration.ofSeconds(5)).withSignalInterval(Duration.ofMillis(200)), new SimpleMeterRegistry(), Duration.ofSeconds(60))) {
                        awaitRouter(router, ns);
                        List<long[]> writes = java.util.Collections.synchronizedList(new ArrayList<>());
                        AtomicBoolean loading = new AtomicBoolean(true);
                        java.util.concurrent.atomic.AtomicInteger sequence = new java.util.concurrent.atomic.AtomicInteger();
                        Runnable writer = () -> {
                            while (loading.get()) {
                                int i = sequence.incrementAndGet();
                                String id = "w" + i;
                                long started = System.nanoTime();
                                try {
                                    router.insert("acme", ns, List.of(new Document("_id", id).append("userId", id).append("n", i)));
                                    writes.add(new long[] {started, System.nanoTime() - started});
                                } catch (RuntimeException failed) {
                                    writes.add(new long[] {started, -1});
                                }
                                try {
                                    Thread.sleep(2);
                                } catch (InterruptedException e) {
                                    return;
                                }
                            }
                        };
                        List<Thread> load = new ArrayList<>();
                        for (int t = 0; t < 4; t++) {
                            Thread thread = new Thread(writer, "bench-load-" + t);
                            load.add(thread);
                            thread.start();
                        }
                        Thread.sleep(1_000);
                        // Baseline, under the same load: the same raw documents, insertMany into the same target shard.
                        MongoCollection<org.bson.RawBsonDocument> scratch = s2.getDatabase("bench").getCollection("scratch" + run, org.bson.RawBsonDocument.class);
                        long rawStart = System.nanoTime();
                        List<org.bson.RawBsonDocument> chunk = new ArrayList<>();
                        for (org.bson.RawBsonDocument doc : s1.getDatabase("bench").getCollection("move" + run, org.bson.RawBsonDocument.class).find().batchSize(1_000)) {
                            chunk.add(doc);
                            if (chunk.size() == 1_000) {
                                scratch.insertMany(chunk);
                                chunk = new ArrayList<>();
                            }
                        }
                        if (!chunk.isEmpty()) {
                            scratch.insertMany(chunk);
                        }
                        double rawPerSecond = size / ((System.nanoTime() - rawStart) / 1e9);
                        // The target's connector reads the baseline's inserts after they were made; the move starts
                        // once it has, so that the copy does not share the target with that backlog.
                        awaitCdc(cluster, TopicCatalog.cdcTopic("s2", "bench.scratch" + run), size);
                        scratch.drop();


                        entered.clear();
                        io.micrometer.core.instrument.Timer throttled = workerMeters.find("shard.migration.copy.throttled").timer();
                        double pausedBefore = throttled == null ? 0 : throttled.totalTime(java.util.concurrent.TimeUnit.SECONDS);
                        long pausesBefore = throttled == null ? 0 : throttled.count();
                        long commanded = System.nanoTime();
                        String commandId = UUID.randomUUID().toString();
                        commands.send(new ProducerRecord<>(catalog.commands().name(), "s1", ShardCommand.newBuilder().setCommandId(commandId)
                            .setIssuer("bench").setTimestamp(Instant.now()).setCommand(MoveChunk.newBuilder().setNamespace(ns)
                                .setChunkMin(java.nio.ByteBuffer.allocate(0)).setTargetShardId("s2").build()).build())).get();
                        long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
                        while (!entered.containsKey(MigrationPhase.CLEANED) && System.nanoTime() < deadline) {
                            Thread.sleep(50);
                        }
                        Thread.sleep(500);
                        loading.set(false);
                        for (Thread thread : load) {
                            thread.join();
                        }
                        long copyStart = entered.get(MigrationPhase.COPYING);
                        long copyEnd = entered.get(MigrationPhase.CATCHING_UP);
                        double copyPerSecond = size / ((copyEnd - copyStart) / 1e9);
                        long fenced = entered.get(MigrationPhase.FENCED);
                        long cutOver = entered.get(MigrationPhase.CUT_OVER);
                        Latencies stalls = new Latencies(writes.size());
                        int failed = 0;
                        int overlapping = 0;
                        long waitedBeforeFence = 0;
                        synchronized (writes) {
                            for (long[] write : writes) {
                                if (write[1] < 0) {
                                    failed++;
                                } else if (write[0] <= cutOver && write[0] + write[1] >= fenced) {
                                    stalls.add(write[1]);
                                    overlapping++;
                                    waitedBeforeFence = Math.max(waitedBeforeFence, fenced - write[0]);
                                }
                            }
                        }
                        print(lines, String.format("move of %,d documents: copy %,.0f docs/s vs raw insertMany into the same shard %,.0f docs/s (ratio %.2f);"
                                + " command -> cutover %.1f s (copy %.1f s, catch-up %.1f s, fence held %.0f ms); cleanup done %.1f s after the command",
                            size, copyPerSecond, rawPerSecond, copyPerSecond / rawPerSecond, (cutOver - commanded) / 1e9, (copyEnd - copyStart) / 1e9,
                            (fenced - copyEnd) / 1e9, (cutOver - fenced) / 1e6, (entered.get(MigrationPhase.CLEANED) - commanded) / 1e9));
                        double bytesPerSecond = copiedBytes.get() / ((copyEnd - copyStart) / 1e9);
                        double hoursPerTerabyte = 1e12 / bytesPerSecond / 3600;
                        print(lines, String.format("  copy %.2f MB/s (%,d bytes): a terabyte's copy at this rate takes %,.0f h through one pair of shards "
                                + "(one migration at a time); %,.1f h if the %d disjoint pairs of 1,024 shards copied at once at full efficiency "
                                + "(parallel-moves measures the efficiency; see docs/capacity.md)", bytesPerSecond / 1e6, copiedBytes.get(), hoursPerTerabyte,
                            hoursPerTerabyte / 512, 512));
                        throttled = workerMeters.find("shard.migration.copy.throttled").timer();
                        print(lines, String.format("  the copy's throttle (batches slower than %d ms on average pause it): %d pauses, %.1f s",
                            workerConfig.copyLatencyTarget().toMillis(), (throttled == null ? 0 : throttled.count()) - pausesBefore,
                            (throttled == null ? 0 : throttled.totalTime(java.util.concurrent.TimeUnit.SECONDS)) - pausedBefore));
                        print(lines, String.format("  writes through the router during the fence: %d, stall p50 %.1f ms, p99 %.1f ms, max %.1f ms"
                                + " (the earliest began %.1f ms before the fence); %d writes failed out of %d",
                            overlapping, stalls.percentileMicros(50) / 1000, stalls.percentileMicros(99) / 1000, stalls.percentileMicros(100) / 1000,
                            Math.max(0, waitedBeforeFence) / 1e6, failed, writes.size()));
                    }
                }
            }
        }
        return lines;
    }

    /** Prints a figure as soon as it is measured (a 1M move takes minutes) and keeps it for the summary. */
    private static void print(List<String> lines, String line) {
        System.out.println(line);
        System.out.flush();
        lines.add(line);
    }

    private static void awaitRouter(ShardRouter router, String ns) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                router.explain("acme", ns, new Document());
                if (router.leaseValid()) {
                    return;
                }
            } catch (RuntimeException notYet) {
                Thread.sleep(50);
                continue;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("router never saw " + ns);
    }

    /** Waits until Debezium has published at least {@code events} changes of the topic. */
    static void awaitCdc(EmbeddedCluster cluster, String topic, long events) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            TopicPartition partition = new TopicPartition(topic, 0);
            long deadline = System.nanoTime() + Duration.ofMinutes(20).toNanos();
            while (System.nanoTime() < deadline) {
                long end = admin.listOffsets(Map.of(partition, OffsetSpec.latest())).partitionResult(partition).get().offset();
                if (end >= events) {
                    return;
                }
                Thread.sleep(500);
            }
            throw new IllegalStateException("CDC of " + topic + " did not reach " + events + " events");
        }
    }
}
