package io.shardline.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.KeyHex;
import io.shardline.schemas.Topic;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.ChunkStats;
import io.shardline.schemas.avro.KeySample;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.QueryLoadSample;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.topology.RebalanceTopology;
import io.shardline.topology.balancer.BalancerSettings;
import io.shardline.topology.internal.AvroBinarySerde;

/**
 * What one decision window of the controller costs at 1,024 shards and 100,000 chunks: the balancer's topology (the
 * one the controller runs) in Kafka Streams' test driver, its stores filled with synthetic shard and chunk figures
 * (a few shards over the split threshold, a few nearly empty, the rest in between), then windows closed one after
 * another, each timed in CPU of the thread that closes it (the driver runs the window's punctuation on the caller).
 * The same at 16 shards and 1,600 chunks is printed beside it, per chunk.
 */
final class ControllerBench {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration WINDOW = Duration.ofSeconds(1);
    private static final String NS = "bench.sessions";
    private static final long CAPACITY_BYTES = 1L << 30;

    private final int shards;
    private final int chunks;
    private final int windows;

    ControllerBench(double scale) {
        this.shards = BenchMain.scaled(1_024, scale);
        this.chunks = BenchMain.scaled(100_000, scale);
        this.windows = 6;
    }

    List<String> run() {
        List<String> lines = new ArrayList<>();
        Window small = windowCost(16, 1_600);
        Window large = windowCost(shards, chunks);
        lines.add(String.format("decision window, %,d shards and %,d chunks: CPU of the windows after the first p50 %,d ms, max %,d ms (goal <= 1 s); "
            + "the first after start (every chunk's row published, every note written) %,d ms; %d decisions over %d windows",
            shards, chunks, large.cpuMedianMillis(), large.cpuMaxMillis(), large.cpuNanos()[0] / 1_000_000, large.decisions(), windows));
        lines.add(String.format("decision window, 16 shards and 1,600 chunks: CPU p50 %,d ms, max %,d ms, first %,d ms; per chunk %.2f us vs %.2f us at %,d chunks (%.2fx)",
            small.cpuMedianMillis(), small.cpuMaxMillis(), small.cpuNanos()[0] / 1_000_000, small.perChunkMicros(1_600), large.perChunkMicros(chunks),
            chunks, large.perChunkMicros(chunks) / Math.max(0.001, small.perChunkMicros(1_600))));
        return lines;
    }

    /** CPU nanoseconds of each window, the first one after start first. */
    private record Window(long[] cpuNanos, int decisions) {
        private long[] afterFirst() {
            long[] sorted = java.util.Arrays.copyOfRange(cpuNanos, 1, cpuNanos.length);
            java.util.Arrays.sort(sorted);
            return sorted;
        }

        long cpuMedianMillis() {
            long[] sorted = afterFirst();
            return sorted[sorted.length / 2] / 1_000_000;
        }

        long cpuMaxMillis() {
            long[] sorted = afterFirst();
            return sorted[sorted.length - 1] / 1_000_000;
        }

        double perChunkMicros(int chunks) {
            long[] sorted = afterFirst();
            return sorted[sorted.length / 2] / 1_000.0 / chunks;
        }
    }

    private Window windowCost(int shardCount, int chunkCount) {
        RebalanceTopology.Config config = new RebalanceTopology.Config(topic("shards", ShardDescriptor.class), topic("config", NamespaceConfig.class),
            topic("routing", ChunkRoute.class), topic("shard-sizes", ShardStats.class), topic("chunk-sizes", ChunkStats.class),
            topic("query-load", QueryLoadSample.class), topic("migrations", MigrationState.class), topic("key-samples", KeySample.class),
            topic("commands", ShardCommand.class), topic("events", ShardEvent.class), topic("stats", ShardStats.class),
            topic("chunk-stats", ChunkStats.class),
            new BalancerSettings(WINDOW, 16, Duration.ofSeconds(60), Duration.ofSeconds(120), 1, BalancerSettings.DEFAULT_MERGE_HEADROOM, "bench"));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "controller-bench");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        try (TopologyTestDriver driver = new TopologyTestDriver(RebalanceTopology.build(config), props, T0)) {
            Random random = new Random(3);
            TestInputTopic<String, ShardDescriptor> descriptors = input(driver, config.shards());
            TestInputTopic<String, ShardStats> sizes = input(driver, config.shardSizes());
            TestInputTopic<String, ChunkStats> chunkSizes = input(driver, config.chunkSizes());
            TestInputTopic<String, ChunkRoute> routes = input(driver, config.routing());
            TestInputTopic<String, QueryLoadSample> load = input(driver, config.queryLoad());
            input(driver, config.configs()).pipeInput(NS, NamespaceConfig.newBuilder().setNamespace(NS).setStrategy(ShardKeyStrategyType.HASHED)
                .setShardKeyFields(List.of("userId")).setThresholds(Thresholds.newBuilder().setSustainedWindows(2).build()).setEpoch(1).setVersion(1)
                .build(), T0);
            long[] bytes = new long[shardCount];
            for (int s = 0; s < shardCount; s++) {
                String id = "s" + s;
                descriptors.pipeInput(id, ShardDescriptor.newBuilder().setShardId(id).setConnectionString("mongodb://" + id + "/")
                    .setCapacityBytes(CAPACITY_BYTES).setCapacityOpsPerSec(10_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(T0).build(), T0);
                double ratio = s % 128 == 0 ? 0.85 : s % 128 == 1 ? 0.05 : 0.3 + 0.4 * random.nextDouble();
                bytes[s] = (long) (CAPACITY_BYTES * ratio);
            }
            int perShard = Math.max(1, chunkCount / shardCount);
            ByteBuffer min = ByteBuffer.allocate(0);
            for (int c = 0; c < chunkCount; c++) {
                int shard = Math.min(shardCount - 1, c / perShard);
                ByteBuffer max = c == chunkCount - 1 ? null : ByteBuffer.wrap(KeyEncoding.encode(String.format("k%08d", c + 1)).toBytes());
                String key = TopicCatalog.routingKey(NS, KeyHex.of(min));
                routes.pipeInput(key, ChunkRoute.newBuilder().setNamespace(NS).setMin(min).setMax(max).setShardId("s" + shard).setEpoch(1)
                    .setVersion(1).setState(ChunkState.ACTIVE).build(), T0);
                chunkSizes.pipeInput(key, ChunkStats.newBuilder().setNamespace(NS).setChunkMin(min).setChunkMax(max).setShardId("s" + shard)
                    .setDocumentCount(bytes[shard] / perShard / 500).setDataBytes(bytes[shard] / perShard).setUpdatedAt(T0).build(), T0);
                min = max;
            }
            TestOutputTopic<String, ShardCommand> commands = driver.createOutputTopic(config.commands().name(), Serdes.String().deserializer(),
                config.commands().valueSerde().deserializer());
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long[] cpu = new long[windows];
            for (int w = 0; w < windows; w++) {
                for (int s = 0; s < shardCount; s++) {
                    String id = "s" + s;
                    sizes.pipeInput(id, ShardStats.newBuilder().setShardId(id).setDocumentCount(bytes[s] / 500).setDataBytes(bytes[s])
                        .setWrites(1_000L * (w + 1)).setUpdatedAt(T0).build(), T0);
                    load.pipeInput(id, QueryLoadSample.newBuilder().setRouterId("r1").setShardId(id).setReads(100 + random.nextInt(1_000))
                        .setWrites(random.nextInt(500)).build(), T0);
                }
                long started = threads.getCurrentThreadCpuTime();
                driver.advanceWallClockTime(WINDOW);
                cpu[w] = threads.getCurrentThreadCpuTime() - started;
            }
            return new Window(cpu, commands.readValuesToList().size());
        }
    }

    private static <V extends SpecificRecord> Topic<String, V> topic(String name, Class<V> type) {
        return new Topic<>("bench." + name, Serdes.String(), AvroBinarySerde.of(type), Topic.Cleanup.COMPACT, Duration.ZERO);
    }

    private static <V> TestInputTopic<String, V> input(TopologyTestDriver driver, Topic<String, V> topic) {
        return driver.createInputTopic(topic.name(), new StringSerializer(), topic.valueSerde().serializer());
    }
}
