package io.shardline.bench;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.bson.Document;
import org.bson.RawBsonDocument;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controller.ControllerConfig;
import io.shardline.controller.ControllerNode;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.core.key.ShardKeyStrategies;
import io.shardline.core.key.ShardKeyStrategy;
import io.shardline.core.routing.Chunk;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.SplitShard;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.topology.balancer.BalancerSettings;

/**
 * Decision latency of the controller, over repeated runs on the embedded cluster: a shard is filled through its own
 * driver (changes reach the controller through Debezium) from well under to 90% of its capacity; the latency runs
 * from the acknowledged write that took it past 80% to the split command being readable on the commands topic. The
 * rule needs the breach sustained over 3 decision windows of 1 s, so 3 s of it are the rule itself; what is left is
 * the pipeline (CDC, size table, stats, the window boundary, the commit). Each run also reports how evenly the chosen
 * split key divides the chunk's documents.
 */
final class DecisionBench {

    private static final Duration WINDOW = Duration.ofSeconds(1);
    private static final int SUSTAINED = 3;
    private static final long FILL_BYTES = 120_000;

    private final int runs;

    DecisionBench(double scale) {
        this.runs = BenchMain.scaled(12, scale);
    }

    List<String> run() throws Exception {
        EmbeddedClusterConfig config = EmbeddedClusterConfig.defaults(Files.createTempDirectory("shardline-decision-")).withShards(2);
        try (EmbeddedCluster cluster = EmbeddedCluster.start(config);
             MongoClient s1 = MongoClients.create(cluster.shards().get("s1").connectionString());
             ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), cluster.catalog());
             KafkaProducer<String, MigrationState> migrations = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                 cluster.bootstrapServers()), cluster.catalog().migrations().keySerde().serializer(), cluster.catalog().migrations().valueSerde().serializer());
             KafkaConsumer<String, ShardCommand> commands = commandsFromNow(cluster)) {
            TopicCatalog catalog = cluster.catalog();
            String ns = "bench.sessions";
            NamespaceConfig sessions = NamespaceConfig.newBuilder().setNamespace(ns).setStrategy(ShardKeyStrategyType.HASHED)
                .setShardKeyFields(List.of("userId"))
                .setThresholds(Thresholds.newBuilder().setSustainedWindows(SUSTAINED).setMergeRatio(0.0).build()).setEpoch(1).setVersion(1).build();
            publisher.publishConfig(sessions);
            publisher.publishRouting(ns, List.of(Chunk.active(ns, KeyRange.ALL, "s1", 1, 1)));
            ShardKeyStrategy strategy = ShardKeyStrategies.of(sessions);
            io.shardline.embedded.ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), cluster.shards().keySet(), List.of(ns), (short) 1);
            ControllerConfig controllerConfig = ControllerConfig.defaults(cluster.bootstrapServers(), catalog,
                Files.createTempDirectory("shardline-decision-state-")).withDbStatsInterval(Duration.ofSeconds(1))
                .withBalancer(new BalancerSettings(WINDOW, 2, Duration.ZERO, Duration.ofHours(1), 1, BalancerSettings.DEFAULT_MERGE_HEADROOM, "controller"));
            Latencies latencies = new Latencies(runs);
            double worstSplit = 0;
            try (ControllerNode controller = ControllerNode.start(controllerConfig, new SimpleMeterRegistry(), Duration.ofSeconds(60))) {
                MongoCollection<Document> collection = s1.getDatabase("bench").getCollection("sessions");
                int next = 0;
                for (int run = 0; run < runs; run++) {
                    long capacity = (long) (FILL_BYTES / 0.9);
                    for (String shard : List.of("s1", "s2")) {
                        publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shard)
                            .setConnectionString(cluster.shards().get(shard).connectionString()).setCapacityBytes(capacity)
                            .setCapacityOpsPerSec(1_000_000).setState(ShardState.ACTIVE).setVersion(run + 1).setUpdatedAt(Instant.now()).build());
                    }
                    Thread.sleep(2 * WINDOW.toMillis()); // the emptied shard's streak is back to zero
                    long held = 0;
                    long crossed = 0;
                    while (held < 0.9 * capacity) {
                        List<Document> batch = new ArrayList<>();
                        for (int i = 0; i < 20; i++) {
                            Document doc = new Document("_id", "s" + next).append("userId", "u" + next).append("pad", "x".repeat(200));
                            next++;
                            held += RawBsonDocument.parse(doc.toJson()).getByteBuffer().remaining();
                            batch.add(doc);
                        }
                        collection.insertMany(batch);
                        if (crossed == 0 && held > 0.8 * capacity) {
                            crossed = System.nanoTime();
                        }
                    }
                    ShardCommand command = awaitSplit(commands);
                    latencies.add(System.nanoTime() - crossed);
                    SplitShard split = (SplitShard) command.getCommand();
                    ShardKey key = ShardKey.ofBuffer(split.getSplitKey());
                    long below = 0;
                    long all = 0;
                    for (Document doc : collection.find()) {
                        all++;
                        below += strategy.keyOf(doc).compareTo(key) < 0 ? 1 : 0;
                    }
                    worstSplit = Math.max(worstSplit, Math.abs((double) below / all - 0.5));
                    collection.deleteMany(new Document());
                    migrations.send(new ProducerRecord<>(catalog.migrations().name(), "m-" + command.getCommandId(), MigrationState.newBuilder()
                        .setMigrationId("m-" + command.getCommandId()).setCommandId(command.getCommandId()).setNamespace(ns)
                        .setChunkMin(ByteBuffer.allocate(0)).setSourceShardId("s1").setTargetShardId(split.getTargetShardId())
                        .setPhase(MigrationPhase.ABORTED).setStartedAt(Instant.now()).setUpdatedAt(Instant.now()).build())).get();
                }
            }
            double sustainedMillis = SUSTAINED * WINDOW.toMillis();
            return List.of(
                String.format("decision latency over %d runs, from the write past 80%% to the split command: p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                    runs, latencies.percentileMicros(50) / 1000, latencies.percentileMicros(99) / 1000, latencies.percentileMicros(100) / 1000),
                String.format("of which the rule's sustained window is %.0f ms: after it p50 %.0f ms, p99 %.0f ms",
                    sustainedMillis, latencies.percentileMicros(50) / 1000 - sustainedMillis, latencies.percentileMicros(99) / 1000 - sustainedMillis),
                String.format("split keys: the worst run put %.1f%% of the chunk's documents below its key (50%% is even)", (0.5 + worstSplit) * 100));
        }
    }

    private static KafkaConsumer<String, ShardCommand> commandsFromNow(EmbeddedCluster cluster) {
        KafkaConsumer<String, ShardCommand> consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "decision-bench-" + UUID.randomUUID(), ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
            cluster.catalog().commands().keySerde().deserializer(), cluster.catalog().commands().valueSerde().deserializer());
        List<TopicPartition> partitions = List.of(new TopicPartition(cluster.catalog().commands().name(), 0));
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        consumer.position(partitions.get(0));
        return consumer;
    }

    private static ShardCommand awaitSplit(KafkaConsumer<String, ShardCommand> commands) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            for (var record : commands.poll(Duration.ofMillis(10))) {
                if (record.value().getCommand() instanceof SplitShard) {
                    return record.value();
                }
            }
        }
        throw new IllegalStateException("no split command within 60 s");
    }
}
