package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.RouterConfig;
import io.shardline.router.api.Scope;
import io.shardline.schemas.avro.WriteDurability;
import io.shardline.router.ShardRouter;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.testing.TestNames;
import io.shardline.core.key.KeyHex;
import io.shardline.controlplane.TopicTable;
import io.shardline.worker.config.WorkerConfig;

/**
 * A namespace hashed on {@code userId} in two chunks, both on s1; a router in this JVM; a load generator writing
 * through it and recording every acknowledged write; and the independent checker that reads both shards directly.
 */
final class MigrationFixture implements AutoCloseable {

    static final String TENANT = "acme";

    final EmbeddedCluster cluster;
    final TestNames names;
    final TopicCatalog catalog;
    final String namespace;
    final ControlPlanePublisher publisher;
    final ShardRouter router;
    final List<Chunk> chunks;
    private final TopicTable<MigrationState> migrations;
    private final KafkaProducer<String, ShardCommand> commands;
    private final Map<String, MongoClient> shards = new HashMap<>();

    MigrationFixture(EmbeddedCluster cluster, TestNames names, Duration routerFenceBudget) throws Exception {
        this(cluster, names, routerFenceBudget, List.of("s1", "s2"), List.of("s1", "s1"));
    }

    /**
     * @param shardIds    the shards registered (each running in the cluster)
     * @param chunkOwners the shard of each chunk: as many hashed chunks as owners
     */
    MigrationFixture(EmbeddedCluster cluster, TestNames names, Duration routerFenceBudget, List<String> shardIds, List<String> chunkOwners)
        throws Exception {
        this(cluster, names, routerFenceBudget, shardIds, chunkOwners, Map.of());
    }

    /** @param elsewhere the connection strings of shards not running in the cluster (another process), by id */
    MigrationFixture(EmbeddedCluster cluster, TestNames names, Duration routerFenceBudget, List<String> shardIds, List<String> chunkOwners,
                     Map<String, String> elsewhere) throws Exception {
        this.cluster = cluster;
        this.names = names;
        this.catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        this.namespace = names.database() + ".users";
        ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), shardIds, List.of(namespace), (short) 1);
        this.publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog);
        for (String shard : shardIds) {
            String uri = elsewhere.containsKey(shard) ? elsewhere.get(shard) : cluster.shards().get(shard).connectionString();
            publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shard).setConnectionString(uri)
                .setCapacityBytes(1L << 30).setCapacityOpsPerSec(100_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
            shards.put(shard, MongoClients.create(uri));
        }
        publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(namespace).setStrategy(ShardKeyStrategyType.HASHED)
            .setShardKeyFields(List.of("userId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
        List<ShardKey> cuts = InitialChunks.hashedBoundaries(chunkOwners.size());
        this.chunks = InitialChunks.layout(namespace, 1, cuts, chunkOwners);
        publisher.publishRouting(namespace, chunks);
        this.router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), catalog).withFenceBudget(routerFenceBudget)
            .withSignalInterval(Duration.ofMillis(200)), new SimpleMeterRegistry(), Duration.ofSeconds(60));
        this.migrations = new TopicTable<>(cluster.bootstrapServers(), catalog.migrations(), catalog.controlDlq().name(), "test");
        this.commands = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()),
            catalog.commands().keySerde().serializer(), catalog.commands().valueSerde().serializer());
        awaitRouterSees();
    }

    private void awaitRouterSees() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                router.explain(TENANT, namespace, new Document());
                if (router.leaseValid()) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // the routing of the namespace has not arrived yet
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the router never saw " + namespace);
    }

    /** Registers a shard the cluster did not start (one a test stops and starts itself); {@link #check} reads it too. */
    void registerShard(String id, String connectionString) {
        publisher.publishShard(ShardDescriptor.newBuilder().setShardId(id).setConnectionString(connectionString).setCapacityBytes(1L << 30)
            .setCapacityOpsPerSec(100_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
        shards.put(id, MongoClients.create(connectionString));
    }

    /** Reads a shard at its new address from now on (after a failover), in {@link #check} and {@link #documents}. */
    void repoint(String id, String connectionString) {
        MongoClient old = shards.put(id, MongoClients.create(connectionString));
        if (old != null) {
            old.close();
        }
    }

    WorkerConfig workerConfig() {
        return workerConfig(cluster.bootstrapServers(), catalog, names.applicationId("workers"));
    }

    static WorkerConfig workerConfig(String bootstrap, TopicCatalog catalog, String group) {
        return WorkerConfig.defaults(bootstrap, catalog).withGroupId(group)
            .withGracePeriod(Duration.ofSeconds(2)).withCopyBatchSize(200).withProgressInterval(Duration.ofMillis(200))
            .withFence(Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofMillis(300));
    }

    /** A worker in its own JVM that pauses when a migration is about to step from {@code phase}. */
    Process pausingWorker(MigrationPhase phase) throws java.io.IOException {
        ProcessBuilder builder = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), PausingWorkerMain.class.getName(), cluster.bootstrapServers(),
            cluster.schemaRegistryUrl(), catalog.prefix(), names.applicationId("workers"), phase.name());
        builder.redirectErrorStream(true);
        return builder.start();
    }

    /** A worker in its own JVM with its own id and grace period, which the test may pause (SIGSTOP) and resume. */
    Process workerProcess(String workerId, Duration gracePeriod) throws java.io.IOException {
        ProcessBuilder builder = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), PausingWorkerMain.class.getName(), cluster.bootstrapServers(),
            cluster.schemaRegistryUrl(), catalog.prefix(), names.applicationId("workers"), "NONE", Long.toString(gracePeriod.toMillis()), workerId);
        builder.redirectErrorStream(true);
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(new java.io.File(System.getProperty("java.io.tmpdir"), "worker-" + workerId + ".log")));
        return builder.start();
    }

    /** Sends a POSIX signal (STOP, CONT) to a process. */
    static void signal(Process process, String signal) throws Exception {
        int exit = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start().waitFor();
        assertThat(exit).as("kill -%s %s", signal, process.pid()).isZero();
    }

    /** Every state the migrations topic holds for a migration, in the order they were written (compaction aside). */
    List<MigrationState> history(String migrationId) {
        List<MigrationState> states = new ArrayList<>();
        try (io.shardline.controlplane.TopicTail<MigrationState> tail = new io.shardline.controlplane.TopicTail<>(cluster.bootstrapServers(),
            catalog.migrations(), true, catalog.controlDlq().name(), "test")) {
            for (var appended : tail.readToEnd()) {
                if (appended.value() != null && appended.value().getMigrationId().equals(migrationId)) {
                    states.add(appended.value());
                }
            }
        }
        return states;
    }

    /**
     * Each state a migration ends in is published once, and the terms of its publishers never go back: no worker of
     * an older term published after one of a newer.
     */
    static void assertOnePublisherPerTransition(List<MigrationState> history) {
        assertThat(history).isNotEmpty();
        List<String> wrong = new ArrayList<>();
        long term = -1;
        MigrationState ended = null;
        for (MigrationState state : history) {
            if (ended != null) {
                wrong.add(state.getWorkerId() + " (term " + state.getOwnerEpoch() + ") published " + state.getPhase() + " after " + ended.getPhase()
                    + " by " + ended.getWorkerId());
            }
            if (state.getOwnerEpoch() < term) {
                wrong.add(state.getWorkerId() + " (term " + state.getOwnerEpoch() + ") published " + state.getPhase() + " after term " + term);
            }
            term = Math.max(term, state.getOwnerEpoch());
            if (state.getPhase() == MigrationPhase.CLEANED || state.getPhase() == MigrationPhase.ABORTED || state.getPhase() == MigrationPhase.ROLLED_BACK) {
                ended = ended == null ? state : ended;
            }
        }
        assertThat(ended).as("the migration ended").isNotNull();
        assertThat(wrong).as("publications by an older term, or after the end").isEmpty();
    }

    /** Waits until the process prints the line, echoing what it prints. */
    static void awaitLine(Process process, String line, Duration timeout) throws Exception {
        java.io.BufferedReader reader = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream()));
        java.util.concurrent.CompletableFuture<Boolean> seen = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                String read;
                while ((read = reader.readLine()) != null) {
                    if (read.equals(line)) {
                        return true;
                    }
                }
                return false;
            } catch (java.io.IOException e) {
                return false;
            }
        });
        assertThat(seen.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)).as("worker printed %s", line).isTrue();
    }

    MigrationWorker worker(WorkerConfig config) {
        return MigrationWorker.start(config, new SimpleMeterRegistry());
    }

    /** Publishes a command to move the lower chunk to s2; returns its command id. */
    String moveLowerChunk() throws Exception {
        Chunk lower = chunks.get(0);
        return send(MoveChunk.newBuilder().setNamespace(namespace).setChunkMin(KeyHex.bytes(lower.min().toHex())).setTargetShardId("s2").build());
    }

    String send(Object body) throws Exception {
        String id = UUID.randomUUID().toString();
        commands.send(new ProducerRecord<>(catalog.commands().name(), "test", ShardCommand.newBuilder().setCommandId(id)
            .setIssuer("test").setTimestamp(Instant.now()).setCommand(body).build())).get();
        return id;
    }

    /** Publishes a command again under the same id (a producer retry, an operator pressing twice). */
    void resend(String commandId) throws Exception {
        Chunk lower = chunks.get(0);
        commands.send(new ProducerRecord<>(catalog.commands().name(), "test", ShardCommand.newBuilder().setCommandId(commandId)
            .setIssuer("test").setTimestamp(Instant.now()).setCommand(MoveChunk.newBuilder().setNamespace(namespace)
                .setChunkMin(KeyHex.bytes(lower.min().toHex())).setTargetShardId("s2").build()).build())).get();
    }

    MigrationState migrationOf(String commandId) {
        return migrations.refresh().values().values().stream().filter(m -> m.getCommandId().equals(commandId)).findFirst().orElse(null);
    }

    MigrationState awaitMigration(String commandId, Predicate<MigrationState> wanted, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        MigrationState seen = null;
        while (System.nanoTime() < deadline) {
            seen = migrationOf(commandId);
            if (seen != null && wanted.test(seen)) {
                return seen;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("migration of command " + commandId + " never got there; last seen " + (seen == null ? "nothing" : seen
            + "") + "\nworker threads in this JVM:\n" + workerThreads());
    }

    /** What this JVM's worker threads are doing: for a migration that did not get where a test waited for it. */
    static String workerThreads() {
        StringBuilder dump = new StringBuilder();
        Thread.getAllStackTraces().forEach((thread, stack) -> {
            if (thread.getName().startsWith("worker-") || thread.getName().startsWith("copy-")) {
                dump.append(thread.getName()).append(" (").append(thread.getState()).append(")\n");
                for (StackTraceElement frame : stack) {
                    dump.append("    at ").append(frame).append('\n');
                }
            }
        });
        return dump.toString();
    }

    static Predicate<MigrationState> in(MigrationPhase phase) {
        return m -> m.getPhase() == phase;
    }

    /** The namespace's documents on a shard, by id; only those written through the router (markers have no key). */
    Map<String, Document> documents(String shard) {
        Map<String, Document> byId = new HashMap<>();
        int dot = namespace.indexOf('.');
        for (Document doc : shards.get(shard).getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1))
            .find(Filters.exists("_sk"))) {
            byId.put(String.valueOf(doc.get("_id")), doc);
        }
        return byId;
    }

    MongoClient shard(String id) {
        return shards.get(id);
    }

    /**
     * Moves a random chunk to a random other shard of {@code shards}, noting it in {@code history}; returns the command's
     * id (the move may be refused if the chunk is migrating already).
     */
    String moveRandomChunk(java.util.Random random, List<String> shards, List<String> history) throws Exception {
        Chunk chunk = chunks.get(random.nextInt(chunks.size()));
        ChunkRoute route = route(chunk.min().toHex());
        List<String> targets = new ArrayList<>(shards);
        targets.remove(route.getShardId());
        String target = targets.get(random.nextInt(targets.size()));
        history.add("move " + chunk.min().toHex() + " " + route.getShardId() + " -> " + target);
        return send(MoveChunk.newBuilder().setNamespace(namespace).setChunkMin(KeyHex.bytes(chunk.min().toHex())).setTargetShardId(target).build());
    }

    /**
     * The migrations the commands planned, each awaited to its end; a command that planned none (a move of a chunk that
     * was migrating already is refused) is left out.
     */
    List<MigrationState> awaitEnded(List<String> commands) throws InterruptedException {
        List<MigrationState> ended = new ArrayList<>();
        for (String command : commands) {
            if (planned(command) != null) {
                ended.add(awaitMigration(command, m -> m != null && io.shardline.schemas.MigrationPhases.ended(m), Duration.ofMinutes(4)));
            }
        }
        return ended;
    }

    /** The migration a command planned, waited for a while; null when the command planned none (it was refused). */
    MigrationState planned(String command) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            MigrationState state = migrationOf(command);
            if (state != null) {
                return state;
            }
            Thread.sleep(100);
        }
        return null;
    }

    ChunkRoute route(String minHex) {
        try (TopicTable<ChunkRoute> routing = new TopicTable<>(cluster.bootstrapServers(), catalog.routing(), catalog.controlDlq().name(), "test")) {
            return routing.refresh().get(TopicCatalog.routingKey(namespace, minHex));
        }
    }

    /** Writes through the router from several threads, recording what each acknowledged write left behind. */
    final class Load implements AutoCloseable {
        /** Last acknowledged value per id; -1 when the last acknowledged write deleted it. */
        final Map<String, Integer> acknowledged = new ConcurrentHashMap<>();
        /** Ids whose last write failed: its outcome is unknown, either value is allowed. */
        final Map<String, Set<Integer>> uncertain = new ConcurrentHashMap<>();
        final AtomicLong writes = new AtomicLong();
        final AtomicLong failures = new AtomicLong();
        final List<Long> stallsMicros = java.util.Collections.synchronizedList(new ArrayList<>());
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();

        private final Scope scope;

        Load(int threads, long pauseMillis) {
            this(threads, pauseMillis, null);
        }

        /** @param durability the durability the writes ask for; {@code null} for the namespace's */
        Load(int threads, long pauseMillis, WriteDurability durability) {
            this.scope = Scope.tenant(TENANT).withDurability(durability);
            for (int t = 0; t < threads; t++) {
                int thread = t;
                Thread worker = new Thread(() -> run(thread, pauseMillis), "load-" + t);
                this.threads.add(worker);
                worker.start();
            }
        }

        private void run(int thread, long pauseMillis) {
            Random random = new Random(thread);
            List<String> live = new ArrayList<>();
            int next = 0;
            while (running.get()) {
                int choice = random.nextInt(10);
                String id;
                int value = random.nextInt(1_000_000);
                long started = System.nanoTime();
                try {
                    if (choice < 5 || live.size() < 10) {
                        id = "t" + thread + "-" + next++;
                        attempt(id, value);
                        router.insert(scope, namespace, List.of(new Document("_id", id).append("userId", id).append("v", value)));
                        live.add(id);
                    } else if (choice < 8) {
                        id = live.get(random.nextInt(live.size()));
                        attempt(id, value);
                        router.update(scope, namespace, new Document("_id", id).append("userId", id), new Document("$set", new Document("v", value)), false, false);
                    } else {
                        id = live.remove(random.nextInt(live.size()));
                        value = -1;
                        attempt(id, value);
                        router.delete(scope, namespace, new Document("_id", id).append("userId", id), false);
                    }
                    acknowledged.put(id, value);
                    uncertain.remove(id);
                    writes.incrementAndGet();
                    stallsMicros.add((System.nanoTime() - started) / 1_000);
                } catch (RuntimeException failed) {
                    failures.incrementAndGet();
                }
                if (pauseMillis > 0) {
                    try {
                        Thread.sleep(pauseMillis);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }
        }

        /** Before a write: until it is acknowledged, both the old and the new value are possible. */
        private void attempt(String id, int value) {
            Set<Integer> possible = uncertain.computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet());
            possible.add(acknowledged.getOrDefault(id, -1));
            possible.add(value);
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread thread : threads) {
                thread.join(30_000);
            }
        }
    }

    /**
     * The checker: every acknowledged write is there with its last acknowledged value, no deleted document came back,
     * no document lives on two shards, and each lives on the shard the routing names for its key.
     */
    void check(Load load) {
        Map<String, Document> all = new HashMap<>();
        Map<String, String> shardOf = new HashMap<>();
        List<String> twice = new ArrayList<>();
        for (String shard : shards.keySet()) {
            documents(shard).forEach((id, doc) -> {
                String before = shardOf.put(id, shard);
                if (before != null) {
                    twice.add(id + " on " + before + " and " + shard);
                }
                all.put(id, doc);
            });
        }
        assertThat(twice).as("documents on two shards").isEmpty();
        List<String> wrong = new ArrayList<>();
        load.acknowledged.forEach((id, value) -> {
            Set<Integer> possible = load.uncertain.get(id);
            Document doc = all.get(id);
            int found = doc == null ? -1 : doc.getInteger("v");
            boolean ok = possible == null ? found == value : possible.contains(found);
            if (!ok) {
                wrong.add(id + ": acknowledged " + value + ", found " + found + (possible == null ? "" : " (possible " + possible + ")"));
            }
        });
        assertThat(wrong).as("acknowledged writes not as acknowledged").isEmpty();
        for (String id : all.keySet()) {
            assertThat(load.acknowledged.containsKey(id) || load.uncertain.containsKey(id)).as("document %s that nobody wrote", id).isTrue();
        }
        try (TopicTable<ChunkRoute> routing = new TopicTable<>(cluster.bootstrapServers(), catalog.routing(), catalog.controlDlq().name(), "test")) {
            Map<String, ChunkRoute> routes = routing.refresh().values();
            for (Map.Entry<String, Document> entry : all.entrySet()) {
                String key = entry.getValue().getString("_sk");
                String owner = routes.values().stream().filter(r -> r.getNamespace().equals(namespace))
                    .filter(r -> key.compareTo(KeyHex.of(r.getMin())) >= 0 && (r.getMax() == null || key.compareTo(KeyHex.of(r.getMax())) < 0))
                    .map(ChunkRoute::getShardId).findFirst().orElse("none");
                assertThat(shardOf.get(entry.getKey())).as("shard of %s", entry.getKey()).isEqualTo(owner);
            }
        }
    }

    @Override
    public void close() throws Exception {
        router.close();
        publisher.close();
        migrations.close();
        commands.close();
        shards.values().forEach(MongoClient::close);
    }

    static java.nio.file.Path tempDir() throws java.io.IOException {
        return Files.createTempDirectory("worker-");
    }
}
