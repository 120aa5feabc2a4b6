package io.shardline.bench;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
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
import io.shardline.shard.EmbeddedShardConfig;
import io.shardline.worker.MigrationWorker;
import io.shardline.worker.config.WorkerConfig;

/**
 * Migration copy rate with 1, 2 and 4 moves at once on disjoint shard pairs, carried out by two workers sharing the
 * migration lanes. Every shard serves each command in at least a fixed service time, so that a pair's copy is bound by
 * its shards' latency (as a real pair is by its disks and network) rather than by this machine's two cores; the
 * aggregate copy rate, each move's copy time and the efficiency against one move times the count are printed side by side.
 */
final class ParallelMovesBench {

    private static final Duration SERVICE_TIME = Duration.ofMillis(20);
    private static final int[] PARALLEL = {1, 2, 4};
    private static final int COPY_BATCH = 100;

    private final int documents;

    ParallelMovesBench(double scale) {
        this.documents = BenchMain.scaled(4_000, scale);
    }

    /** When each migration entered each phase, what it copied, and which worker carried it out. */
    private final Map<String, Map<MigrationPhase, Long>> entered = new ConcurrentHashMap<>();
    private final Map<String, Long> copiedBytes = new ConcurrentHashMap<>();
    private final Map<String, String> workers = new ConcurrentHashMap<>();
    private final Map<String, String> namespaceOfMigration = new ConcurrentHashMap<>();

    List<String> run() throws Exception {
        List<String> lines = new ArrayList<>();
        int most = PARALLEL[PARALLEL.length - 1];
        try (EmbeddedCluster cluster = EmbeddedCluster.start(EmbeddedClusterConfig.defaults(Files.createTempDirectory("shardline-parallel-moves-"))
            .withShards(1));
             ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), cluster.catalog());
             KafkaProducer<String, ShardCommand> commands = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                 cluster.bootstrapServers()), cluster.catalog().commands().keySerde().serializer(), cluster.catalog().commands().valueSerde().serializer())) {
            TopicCatalog catalog = cluster.catalog();
            List<String> shards = new ArrayList<>();
            for (int i = 1; i <= 2 * most; i++) {
                String id = "m" + i;
                cluster.addShard(id, EmbeddedShardConfig.defaults(id).withServiceTime(SERVICE_TIME));
                shards.add(id);
                publisher.publishShard(ShardDescriptor.newBuilder().setShardId(id).setConnectionString(cluster.shards().get(id).connectionString())
                    .setCapacityBytes(1L << 34).setCapacityOpsPerSec(1_000_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
            }
            WorkerConfig config = WorkerConfig.defaults(cluster.bootstrapServers(), catalog).withGracePeriod(Duration.ofSeconds(1))
                .withCopyBatchSize(COPY_BATCH).withMaxParallelMigrations(most);
            try (MigrationWorker first = MigrationWorker.start(config.withWorkerId("w1"), new SimpleMeterRegistry(), this::observe);
                 MigrationWorker second = MigrationWorker.start(config.withWorkerId("w2"), new SimpleMeterRegistry(), this::observe)) {
                awaitLanesShared(first, second);
                double single = 0;
                double singleBytes = 0;
                double efficiency = 0;
                for (int parallel : PARALLEL) {
                    List<String> namespaces = new ArrayList<>();
                    for (int p = 0; p < parallel; p++) {
                        String ns = "bench.par" + parallel + "x" + p;
                        namespaces.add(ns);
                        load(cluster, publisher, ns, shards.get(2 * p), shards);
                    }
                    List<String> commandIds = new ArrayList<>();
                    for (int p = 0; p < parallel; p++) {
                        String commandId = UUID.randomUUID().toString();
                        commandIds.add(commandId);
                        commands.send(new ProducerRecord<>(catalog.commands().name(), "bench", ShardCommand.newBuilder().setCommandId(commandId)
                            .setIssuer("bench").setTimestamp(Instant.now()).setCommand(MoveChunk.newBuilder().setNamespace(namespaces.get(p))
                                .setChunkMin(java.nio.ByteBuffer.allocate(0)).setTargetShardId(shards.get(2 * p + 1)).build()).build())).get();
                    }
                    List<String> migrations = awaitCutOver(namespaces);
                    long copyStart = migrations.stream().mapToLong(m -> entered.get(m).get(MigrationPhase.COPYING)).min().orElseThrow();
                    long copyEnd = migrations.stream().mapToLong(m -> entered.get(m).get(MigrationPhase.CATCHING_UP)).max().orElseThrow();
                    double seconds = (copyEnd - copyStart) / 1e9;
                    long bytes = migrations.stream().mapToLong(m -> copiedBytes.getOrDefault(m, 0L)).sum();
                    double perMove = migrations.stream().mapToLong(m -> entered.get(m).get(MigrationPhase.CATCHING_UP) - entered.get(m).get(MigrationPhase.COPYING))
                        .average().orElseThrow() / 1e9;
                    double rate = (double) documents * parallel / seconds;
                    if (parallel == 1) {
                        single = rate;
                        singleBytes = bytes / seconds;
                    }
                    efficiency = rate / (parallel * single);
                    long lastStart = migrations.stream().mapToLong(m -> entered.get(m).get(MigrationPhase.COPYING)).max().orElseThrow();
                    List<String> by = migrations.stream().map(workers::get).sorted().toList();
                    lines.add(String.format("%d move(s) at once: copy %,.0f docs/s, %.2f MB/s together, from the first copy's start to the last "
                            + "one's end (each move's copy %.1f s, the last started %.1f s after the first); efficiency %.0f%% of %d x one move; "
                            + "carried out by %s", parallel, rate, bytes / seconds / 1e6, perMove, (lastStart - copyStart) / 1e9,
                        100 * rate / (parallel * single), parallel, by));
                }
                double hours = 1e12 / (singleBytes * most * efficiency) / 3600;
                lines.add(String.format("a terabyte at these figures: %,.0f h with %d moves at once (%.0f%% efficiency), %,.2f h with the 512 disjoint "
                        + "pairs of 1,024 shards at that efficiency (a pair copying %.2f MB/s; see docs/capacity.md)", hours, most, 100 * efficiency,
                    hours * most / 512, singleBytes / 1e6));
            }
        }
        lines.add(String.format("(%,d documents per move, copy batches of %d; every shard serves each command in at least %d ms; two workers share the "
            + "migration lanes)", documents, COPY_BATCH, SERVICE_TIME.toMillis()));
        return lines;
    }

    private void observe(MigrationState state) {
        namespaceOfMigration.putIfAbsent(state.getMigrationId(), state.getNamespace());
        entered.computeIfAbsent(state.getMigrationId(), id -> new ConcurrentHashMap<>()).putIfAbsent(state.getPhase(), System.nanoTime());
        if (state.getPhase() == MigrationPhase.CATCHING_UP) {
            copiedBytes.put(state.getMigrationId(), state.getCopiedBytes());
        }
        if (state.getPhase() == MigrationPhase.COPYING) {
            workers.put(state.getMigrationId(), state.getWorkerId());
        }
    }

    /** A namespace in one chunk on its source shard, loaded with the documents; returns once its CDC has caught up. */
    private void load(EmbeddedCluster cluster, ControlPlanePublisher publisher, String ns, String source, List<String> shards) throws Exception {
        NamespaceConfig namespace = NamespaceConfig.newBuilder().setNamespace(ns).setStrategy(ShardKeyStrategyType.HASHED)
            .setShardKeyFields(List.of("userId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build();
        publisher.publishConfig(namespace);
        publisher.publishRouting(ns, List.of(Chunk.active(ns, KeyRange.ALL, source, 1, 1)));
        ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), shards, List.of(ns), (short) 1);
        ShardKeyStrategy strategy = ShardKeyStrategies.of(namespace);
        int dot = ns.indexOf('.');
        try (MongoClient client = MongoClients.create(cluster.shards().get(source).connectionString())) {
            MongoCollection<Document> collection = client.getDatabase(ns.substring(0, dot)).getCollection(ns.substring(dot + 1));
            List<Document> batch = new ArrayList<>();
            for (int i = 0; i < documents; i++) {
                Document doc = new Document("_id", "d" + i).append("userId", "u" + i).append("tenantId", "acme").append("n", i).append("pad", "x".repeat(64));
                doc.append("_sk", strategy.keyOf(doc).toHex());
                batch.add(doc);
                if (batch.size() == 1_000 || i == documents - 1) {
                    collection.insertMany(batch);
                    batch = new ArrayList<>();
                }
            }
        }
        MigrationBench.awaitCdc(cluster, TopicCatalog.cdcTopic(source, ns), documents);
    }

    /** Waits until the move of each namespace has cut over; returns their migration ids. */
    private List<String> awaitCutOver(List<String> namespaces) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (System.nanoTime() < deadline) {
            List<String> done = entered.entrySet().stream().filter(e -> e.getValue().containsKey(MigrationPhase.CUT_OVER)
                && e.getValue().containsKey(MigrationPhase.COPYING) && namespaces.contains(namespaceOf(e.getKey()))).map(Map.Entry::getKey).toList();
            if (done.size() == namespaces.size()) {
                return done;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException("the moves of " + namespaces + " did not cut over within 10 minutes");
    }

    private String namespaceOf(String migrationId) {
        return namespaceOfMigration.get(migrationId);
    }

    private static void awaitLanesShared(MigrationWorker first, MigrationWorker second) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!first.heldLanes().isEmpty() && !second.heldLanes().isEmpty()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the two workers never shared the lanes");
    }
}
