package io.shardline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.controlplane.TopicTail;
import io.shardline.core.key.ShardKey;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.testing.ShardlineClusterExtension;
import io.shardline.testing.TestNames;
import io.shardline.worker.MigrationWorker;
import io.shardline.worker.config.WorkerConfig;
import picocli.CommandLine;

/**
 * The operator's commands against the embedded cluster, in-process: a move published with {@code --wait} is carried
 * out by a worker and followed to its end; bad input is refused with the option named, exit code 2, and nothing on the
 * commands topic; the read commands and {@code sql} answer with what the topics hold.
 */
@ExtendWith(ShardlineClusterExtension.class)
class OperatorCommandsIT {

    private EmbeddedCluster cluster;
    private TopicCatalog catalog;
    private String namespace;
    private List<Chunk> chunks;
    private MigrationWorker worker;


    @BeforeEach
    void setUp(EmbeddedCluster cluster, TestNames names) throws Exception {
        this.cluster = cluster;
        this.catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        this.namespace = names.database() + ".users";
        ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), List.of("s1", "s2"), List.of(namespace), (short) 1);
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog)) {
            for (String shard : List.of("s1", "s2")) {
                publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shard).setConnectionString(cluster.shards().get(shard).connectionString())
                    .setCapacityBytes(1L << 30).setCapacityOpsPerSec(10_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
            }
            publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(namespace).setStrategy(ShardKeyStrategyType.HASHED)
                .setShardKeyFields(List.of("userId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
            List<ShardKey> cuts = InitialChunks.hashedBoundaries(2);
            chunks = InitialChunks.layout(namespace, 1, cuts, List.of("s1", "s1"));
            publisher.publishRouting(namespace, chunks);
        }
        worker = MigrationWorker.start(WorkerConfig.defaults(cluster.bootstrapServers(), catalog).withGroupId(names.applicationId("workers"))
            .withGracePeriod(Duration.ofSeconds(1)), new SimpleMeterRegistry());
    }

    @AfterEach
    void tearDown() {
        worker.close();
    }

    private CliRun run(String... args) {
        return CliRun.of(cluster, catalog, args);
    }

    private long commandsEnd() throws Exception {
        return end(catalog.commands().name());
    }

    @Test
    void shouldPublishAMoveFollowItToItsEndAndShowItInTheReadCommands() {
        String lower = chunks.get(0).min().toHex();
        String chunk = lower.isEmpty() ? "min" : lower;

        CliRun move = run("move-chunk", "--ns", namespace, "--chunk", chunk, "--to", "s2", "--wait", "--wait-timeout", "2m", "--issuer", "ops-it");

        assertThat(move.exit()).as(move.out() + move.err()).isZero();
        assertThat(move.out()).contains("published MoveChunk", "accepted: moving chunk", "CLEANED", "done");
        CliRun routing = run("routing", "--ns", namespace);
        assertThat(routing.out().lines().filter(line -> line.startsWith(namespace + "  " + chunk + " ")).findFirst().orElseThrow())
            .contains("s2");
        assertThat(run("migrations", "--all").out()).contains(namespace, "s1", "s2", "CLEANED");
        assertThat(run("shards").out()).contains("s1", "s2", "ACTIVE");
        CliRun accepted = run("events", "--type", "COMMAND_ACCEPTED", "--format", "json");
        assertThat(accepted.out()).contains("\"issuer\":\"ops-it\"").doesNotContain("MIGRATION_PROGRESS");

        CliRun clean = run("verify", "--ns", namespace);
        try (MongoClient s1 = MongoClients.create(cluster.shards().get("s1").connectionString())) {
            int dot = namespace.indexOf('.');
            s1.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1))
                .insertOne(new Document("_id", "stray").append("userId", "stray").append("_sk", lower + "00"));
        }
        CliRun stray = run("verify", "--ns", namespace);

        assertThat(clean.exit()).as(clean.out() + clean.err()).isZero();
        assertThat(clean.out()).contains("2 chunks", "0 orphaned ranges", "covers the key space exactly once");
        assertThat(stray.exit()).isEqualTo(1);
        assertThat(stray.out()).contains("s1:1", "orphaned", "1 orphaned range;");
    }

    @Test
    void shouldReportTheDocumentsOfAChunkDeletedBehindTheRoutersBack() throws Exception {
        try (ShardRouter router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), catalog)
            .withSignalInterval(Duration.ofMillis(200)), new SimpleMeterRegistry(), Duration.ofSeconds(60))) {
            List<Document> users = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                users.add(new Document("_id", "u" + i).append("userId", "u" + i));
            }
            router.insert("acme", namespace, users);
            router.delete("acme", namespace, new Document("userId", "u39").append("_id", "u39"), false);
            CliRun clean = run("verify", "--ns", namespace);

            String lower = chunks.get(0).min().toHex();
            String upper = chunks.get(0).max().toHex();
            int dot = namespace.indexOf('.');
            long deleted;
            try (MongoClient s1 = MongoClients.create(cluster.shards().get("s1").connectionString())) {
                var collection = s1.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1));
                List<Object> victims = collection.find(com.mongodb.client.model.Filters.and(com.mongodb.client.model.Filters.gte("_sk", lower),
                    com.mongodb.client.model.Filters.lt("_sk", upper))).limit(3).map(doc -> doc.get("_id")).into(new ArrayList<>());
                deleted = collection.deleteMany(com.mongodb.client.model.Filters.in("_id", victims)).getDeletedCount();
            }
            CliRun behindItsBack = run("verify", "--ns", namespace);

            assertThat(clean.exit()).as(clean.out() + clean.err()).isZero();
            assertThat(clean.out()).contains("0 lost, 0 unacknowledged");
            assertThat(deleted).isEqualTo(3);
            assertThat(behindItsBack.exit()).as(behindItsBack.out()).isEqualTo(1);
            assertThat(behindItsBack.out()).contains("LOST 3 acknowledged documents", "3 lost, 0 unacknowledged");
            assertThat(behindItsBack.out().lines().filter(line -> line.contains("LOST")).count()).as("chunks reported").isEqualTo(1);
        }
    }

    @Test
    void shouldRefuseToMoveAMigratingChunkWithExitTwoNamingTheChunkOption() throws Exception {
        Chunk lower = chunks.get(0);
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog)) {
            publisher.publishChunk(lower.withOwner("s1", lower.version() + 1, io.shardline.schemas.avro.ChunkState.MIGRATING, "m-1"));
        }
        long before = commandsEnd();
        String chunk = lower.min().toHex().isEmpty() ? "min" : lower.min().toHex();

        CliRun move = run("move-chunk", "--ns", namespace, "--chunk", chunk, "--to", "s2");

        assertThat(move.exit()).as(move.out() + move.err()).isEqualTo(2);
        assertThat(move.err()).contains("--chunk", "is migrating", "m-1");
        assertThat(commandsEnd()).as("nothing published").isEqualTo(before);
    }

    @Test
    void shouldRefuseBadCommandsNamingTheOptionAndPublishNothing() throws Exception {
        long before = commandsEnd();
        String lower = chunks.get(0).min().toHex();
        String chunk = lower.isEmpty() ? "min" : lower;

        CliRun unknownShard = run("move-chunk", "--ns", namespace, "--chunk", chunk, "--to", "s9");
        CliRun notAChunk = run("move-chunk", "--ns", namespace, "--chunk", "ff", "--to", "s2");
        CliRun ownedAlready = run("move-chunk", "--ns", namespace, "--chunk", chunk, "--to", "s1");
        CliRun unknownNamespace = run("split", "--ns", "nowhere.users", "--chunk", "min");
        CliRun splitOutside = run("split", "--ns", namespace, "--chunk", chunks.get(1).min().toHex(), "--at", "00", "--no-move");
        CliRun unknownMigration = run("abort", "--migration", UUID.randomUUID().toString());
        CliRun selfMerge = run("merge", "--from", "s1", "--into", "s1");
        CliRun missingOption = run("drain");
        CliRun verifyUnknown = run("verify", "--ns", "nowhere.users");

        assertThat(List.of(unknownShard, notAChunk, ownedAlready, unknownNamespace, splitOutside, unknownMigration, selfMerge, missingOption))
            .allSatisfy(refused -> assertThat(refused.exit()).as(refused.err()).isEqualTo(2));
        assertThat(unknownShard.err()).contains("--to: no shard s9 is registered");
        assertThat(notAChunk.err()).contains("--chunk: no chunk of " + namespace + " starts at ff");
        assertThat(ownedAlready.err()).contains("--to: the chunk is on s1 already");
        assertThat(unknownNamespace.err()).contains("--ns: no routing for namespace nowhere.users");
        assertThat(splitOutside.err()).contains("--at: key 00 is not inside the chunk");
        assertThat(unknownMigration.err()).contains("--migration: no migration");
        assertThat(selfMerge.err()).contains("--into: a shard cannot be merged into itself");
        assertThat(missingOption.err()).contains("--shard");
        assertThat(verifyUnknown.exit()).isEqualTo(2);
        assertThat(verifyUnknown.err().strip()).as("one line, no stack trace").contains("--ns: no routing for namespace nowhere.users")
            .doesNotContain("\n", "Exception");
        assertThat(commandsEnd()).as("nothing published").isEqualTo(before);
    }

    @Test
    void shouldAnswerSqlWithWhatTheEventsTopicHolds() throws Exception {
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog)) {
            for (int i = 0; i < 5; i++) {
                publisher.publishEvent(event(i % 2 == 0 ? ShardEventType.SPLIT_DECIDED : ShardEventType.MERGE_DECIDED, "s" + (1 + i % 2), "probe " + i));
            }
        }
        Map<String, Long> expected = new TreeMap<>();
        try (TopicTail<ShardEvent> tail = new TopicTail<>(cluster.bootstrapServers(), catalog.events(), true, catalog.controlDlq().name(), "test")) {
            tail.readToEnd().forEach(e -> expected.merge(e.value().getType().name(), 1L, Long::sum));
        }

        CliRun counts = run("sql", "SELECT type, count(*) AS n FROM shard_events GROUP BY type ORDER BY type", "--format", "csv");
        CliRun down = run("sql", "SELECT shard_id, reason FROM shard_events WHERE type = 'SPLIT_DECIDED' ORDER BY ts", "--format", "json");
        CliRun broken = run("sql", "SELECT nothing FROM nowhere");

        assertThat(counts.exit()).as(counts.err()).isZero();
        Map<String, Long> answered = new TreeMap<>();
        counts.out().lines().skip(1).forEach(line -> answered.put(line.split(",")[0], Long.parseLong(line.split(",")[1])));
        assertThat(answered).isEqualTo(expected).containsEntry("SPLIT_DECIDED", 3L).containsEntry("MERGE_DECIDED", 2L);
        assertThat(down.out().lines().toList()).containsExactly("{\"shard_id\":\"s1\",\"reason\":\"probe 0\"}",
            "{\"shard_id\":\"s1\",\"reason\":\"probe 2\"}", "{\"shard_id\":\"s1\",\"reason\":\"probe 4\"}");
        assertThat(broken.exit()).isEqualTo(2);
        assertThat(broken.err()).contains("QUERY:", "nowhere");
    }

    @Test
    void shouldAnswerSqlOverTheControllersChunkTable() throws Exception {
        io.shardline.schemas.Topic<String, io.shardline.schemas.avro.ChunkStats> topic = catalog.chunkStats();
        try (org.apache.kafka.clients.producer.KafkaProducer<String, io.shardline.schemas.avro.ChunkStats> producer =
                 new org.apache.kafka.clients.producer.KafkaProducer<>(Map.of("bootstrap.servers", cluster.bootstrapServers()),
                     topic.keySerde().serializer(), topic.valueSerde().serializer())) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic.name(), "auth.users|", io.shardline.schemas.avro.ChunkStats
                .newBuilder().setNamespace("auth.users").setChunkMin(java.nio.ByteBuffer.allocate(0)).setChunkMax(null).setShardId("s2")
                .setDocumentCount(42).setDataBytes(4_200).setReadsPerSec(1.5).setUpdatedAt(java.time.Instant.now()).build())).get();
        }

        CliRun chunks = run("sql", "SELECT namespace, chunk_min, shard_id, document_count, reads_per_sec FROM chunk_stats", "--format", "csv");

        assertThat(chunks.exit()).as(chunks.err()).isZero();
        assertThat(chunks.out().lines().toList()).containsExactly("namespace,chunk_min,shard_id,document_count,reads_per_sec", "auth.users,,s2,42,1.5");
    }

    @Test
    void shouldPushNewRowsOfAFollowedQuery() throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cli = ShardlineCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(new StringWriter()));
        Thread follower = new Thread(() -> cli.execute("sql", "SELECT reason FROM shard_events WHERE type = 'SPLIT_DECIDED'", "--follow",
            "--interval", "200ms", "--format", "csv", "--bootstrap", cluster.bootstrapServers(), "--registry", cluster.schemaRegistryUrl(),
            "--topic-prefix", catalog.prefix()));
        follower.start();
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog)) {
            awaitOutput(out, "reason");
            publisher.publishEvent(event(ShardEventType.SPLIT_DECIDED, "s2", "pushed later"));
            awaitOutput(out, "pushed later");
        } finally {
            follower.interrupt();
            follower.join(10_000);
        }
        assertThat(out.toString().lines().filter(line -> line.equals("reason")).count()).as("the header once").isEqualTo(1);
    }

    @Test
    void shouldRegisterAClusterFileOnceAndRefuseABrokenOne(@TempDir Path dir) throws Exception {
        String orders = namespace.replace(".users", ".orders");
        Path file = dir.resolve("shardline.yaml");
        Files.writeString(file, """
            shards:
              - id: a1
                uri: %s
                capacityBytes: 1000000
                capacityOpsPerSec: 500
              - id: a2
                uri: %s
                capacityBytes: 1000000
                capacityOpsPerSec: 500
            namespaces:
              - namespace: %s
                strategy: hashed
                shardKey: [orderId]
                initialChunks: 4
            """.formatted(cluster.shards().get("s1").connectionString(), cluster.shards().get("s2").connectionString(), orders));
        Path broken = dir.resolve("broken.yaml");
        Files.writeString(broken, "shards:\n  - id: a3\n    uri: mongodb://x\n    capacityBytes: -5\n    capacityOpsPerSec: 1\nnamespaces: []\n");

        Path malformed = dir.resolve("malformed.yaml");
        Files.writeString(malformed, "shards:\n  - id: a4\n    uri: [unclosed\n");
        Path unreachable = dir.resolve("unreachable.yaml");
        Files.writeString(unreachable, Files.readString(file).replace("  - id: a2\n", """
              - id: a5
                uri: mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500
                capacityBytes: 1000000
                capacityOpsPerSec: 500
              - id: a2
            """));

        CliRun first = run("init", "--config", file.toString());
        CliRun again = run("init", "--config", file.toString());
        long shardsEnd = end(catalog.shards().name());
        CliRun refused = run("init", "--config", broken.toString());
        CliRun unreadable = run("init", "--config", malformed.toString());
        CliRun outOfReach = run("init", "--config", unreachable.toString());

        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("shard-key index {_sk: 1}: on a1, a2 for " + orders, "shard a1: registered", "shard a2: registered",
            "namespace " + orders + ": registered (hashed on [orderId])", "routing of " + orders + ": 4 chunks over [a1, a2]");
        for (String shard : List.of("s1", "s2")) {
            try (MongoClient direct = MongoClients.create(cluster.shards().get(shard).connectionString())) {
                int dot = orders.indexOf('.');
                List<Document> indexes = direct.getDatabase(orders.substring(0, dot)).getCollection(orders.substring(dot + 1))
                    .listIndexes().into(new ArrayList<>());
                assertThat(indexes).as(shard).anySatisfy(index -> assertThat(index.get("key", Document.class)).isEqualTo(new Document("_sk", 1)));
            }
        }
        assertThat(run("routing", "--ns", orders).out().lines().skip(1).map(line -> line.split("\\s+")[3]).toList())
            .containsExactly("a1", "a2", "a1", "a2");
        assertThat(again.out()).contains("shard a1: unchanged", "namespace " + orders + ": unchanged", "4 chunks exist, left as they are");
        assertThat(refused.exit()).isEqualTo(2);
        assertThat(refused.err()).contains("broken.yaml:4: shards[0].capacityBytes: must be a positive integer, was '-5'",
            "broken.yaml:6: namespaces: must not be empty", "nothing published: 2 problems");
        assertThat(unreadable.exit()).isEqualTo(2);
        assertThat(unreadable.err()).contains("malformed.yaml:", "not valid YAML", "nothing published: 1 problem");
        assertThat(outOfReach.exit()).isEqualTo(1);
        assertThat(outOfReach.err()).contains("shard a5: cannot create the shard-key index {_sk: 1} of " + orders,
            "nothing published: the shard-key index is missing on 1 shard").doesNotContain("shard a1:", "shard a2:");
        assertThat(end(catalog.shards().name())).as("nothing published").isEqualTo(shardsEnd);
    }

    private long end(String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            TopicPartition partition = new TopicPartition(topic, 0);
            return admin.listOffsets(Map.of(partition, OffsetSpec.latest())).all().get().get(partition).offset();
        }
    }

    private static void awaitOutput(StringWriter out, String text) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!out.toString().contains(text) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(out.toString()).contains(text);
    }

    private static ShardEvent event(ShardEventType type, String shard, String reason) {
        return ShardEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setType(type).setTimestamp(Instant.now())
            .setSource("operator-it").setShardId(shard).setReason(reason).build();
    }
}
