package io.shardline.bench.model;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.schemas.MigrationPhases;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.controlplane.TopicTable;
import io.shardline.controlplane.TopicTail;
import io.shardline.core.key.KeyHex;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.core.routing.NamespaceRouting;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.AbortMigration;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.RollbackMigration;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.SplitShard;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.worker.check.WriteLedger;

/**
 * One model sequence against a running cluster: a fresh namespace (hashed on {@code userId}, two chunks on s1) and
 * control plane (its own topic prefix and worker group), two worker processes and a router process to kill and pause,
 * writers through a router in this JVM over a small key space, each write recorded with its outcome. The steps run
 * one after another; then every process is resumed, one worker at least kept alive, and the run waits until every
 * command was carried out and every migration ended. What it then checks: the acknowledged writes against every shard
 * read directly (nothing lost, duplicated, resurrected or unknown), the routing covering the key space once, and
 * each migration's history (ended once, never published by an older term after a newer one or after its end).
 */
final class ModelRun implements AutoCloseable {

    private static final String TENANT = "acme";
    private static final int KEYS_PER_WRITER = 60;
    private static final Duration SETTLE_TIMEOUT = Duration.ofMinutes(4);

    private final EmbeddedCluster cluster;
    private final String id = UUID.randomUUID().toString().substring(0, 8);
    private final TopicCatalog catalog;
    private final String namespace;
    private final String group;
    private final ControlPlanePublisher publisher;
    private final KafkaProducer<String, ShardCommand> commands;
    private final ShardRouter router;
    private final WriteLedger ledger = new WriteLedger();
    private final List<Process> workers = new ArrayList<>();
    private final Map<Process, Long> pausedUntil = new ConcurrentHashMap<>();
    private Process routerProcess;
    private final ScheduledExecutorService resumer = Executors.newSingleThreadScheduledExecutor();
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final List<Thread> writers = new ArrayList<>();
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final List<String> log = new ArrayList<>();
    private final Path logDir;

    ModelRun(EmbeddedCluster cluster, long seed, Path logDir) throws Exception {
        this.cluster = cluster;
        this.logDir = logDir;
        this.catalog = new TopicCatalog("model" + id + ".", new RegistrySerdes(cluster.schemaRegistryUrl()));
        this.namespace = "model" + id + ".users";
        this.group = catalog.prefix() + "workers";
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), List.of("s1", "s2"), List.of(namespace), (short) 1);
        this.publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog);
        for (String shard : List.of("s1", "s2")) {
            publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shard).setConnectionString(cluster.shards().get(shard).connectionString())
                .setCapacityBytes(1L << 30).setCapacityOpsPerSec(100_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
        }
        publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(namespace).setStrategy(ShardKeyStrategyType.HASHED)
            .setShardKeyFields(List.of("userId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
        List<ShardKey> cuts = InitialChunks.hashedBoundaries(2);
        publisher.publishRouting(namespace, InitialChunks.layout(namespace, 1, cuts, List.of("s1", "s1")));
        this.commands = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()),
            catalog.commands().keySerde().serializer(), catalog.commands().valueSerde().serializer());
        this.router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), catalog).withFenceBudget(Duration.ofSeconds(5))
            .withSignalInterval(Duration.ofMillis(200)).withLeaseDuration(Duration.ofSeconds(3)), new SimpleMeterRegistry(), Duration.ofSeconds(60));
        this.routerProcess = start(RouterProcessMain.class, "router", "2000");
        awaitLine(routerProcess, "ROUTER_URL=");
        startWorker();
        startWorker();
        for (int w = 0; w < 2; w++) {
            int writer = w;
            Random random = new Random(seed * 31 + w);
            Thread thread = new Thread(() -> write(writer, random), "model-writer-" + w);
            writers.add(thread);
            thread.start();
        }
    }

    /** Runs the steps, settles and checks; the problems found (empty when none). */
    List<String> run(List<ModelStep> steps) throws Exception {
        Thread.sleep(1_000);
        for (ModelStep step : steps) {
            note("step " + step.describe() + ": " + apply(step));
            if (step.kind() != ModelStep.Kind.PAUSE_WORKER && step.kind() != ModelStep.Kind.PAUSE_ROUTER) {
                Thread.sleep(step.millis());
            }
        }
        List<String> problems = new ArrayList<>();
        String unsettled = settle();
        writing.set(false);
        for (Thread writer : writers) {
            writer.join(30_000);
        }
        if (unsettled != null) {
            problems.add(unsettled);
        }
        problems.addAll(check());
        note("acknowledged writes " + acknowledged.get() + ", failed (outcome unknown) " + failed.get());
        return problems;
    }

    List<String> log() {
        return log;
    }

    private void note(String line) {
        log.add(line);
    }

    private String apply(ModelStep step) throws Exception {
        return switch (step.kind()) {
            case MOVE -> {
                ChunkRoute chunk = chunk(step.index());
                String target = chunk.getShardId().equals("s1") ? "s2" : "s1";
                yield send(MoveChunk.newBuilder().setNamespace(namespace).setChunkMin(chunk.getMin()).setTargetShardId(target).build())
                    + " [" + KeyHex.of(chunk.getMin()) + ") " + chunk.getShardId() + "->" + target;
            }
            case SPLIT -> {
                ChunkRoute chunk = chunk(step.index());
                yield send(SplitShard.newBuilder().setShardId(chunk.getShardId()).setNamespace(namespace).setChunkMin(chunk.getMin())
                    .setByLoad(false).build()) + " [" + KeyHex.of(chunk.getMin()) + ") on " + chunk.getShardId();
            }
            case ROLLBACK, ABORT -> {
                MigrationState latest = latestUnfinished();
                if (latest == null) {
                    yield "no migration to " + step.kind().name().toLowerCase(java.util.Locale.ROOT);
                }
                Object body = step.kind() == ModelStep.Kind.ROLLBACK ? RollbackMigration.newBuilder().setMigrationId(latest.getMigrationId()).build()
                    : AbortMigration.newBuilder().setMigrationId(latest.getMigrationId()).build();
                yield send(body) + " " + latest.getMigrationId() + " in " + latest.getPhase();
            }
            case KILL_WORKER -> {
                List<Process> alive = workers.stream().filter(Process::isAlive).toList();
                if (alive.isEmpty()) {
                    yield "no worker to kill";
                }
                Process doomed = alive.get(step.index() % alive.size());
                doomed.destroyForcibly().waitFor();
                pausedUntil.remove(doomed);
                yield "killed pid " + doomed.pid();
            }
            case START_WORKER -> workers.stream().filter(Process::isAlive).count() >= 3 ? "three workers run already" : "started pid " + startWorker().pid();
            case PAUSE_WORKER -> {
                List<Process> running = workers.stream().filter(p -> p.isAlive() && !pausedUntil.containsKey(p)).toList();
                if (running.isEmpty()) {
                    yield "no running worker to pause";
                }
                yield pause(running.get(step.index() % running.size()), step.millis());
            }
            case PAUSE_ROUTER -> pausedUntil.containsKey(routerProcess) ? "router paused already" : pause(routerProcess, step.millis());
            case WAIT -> "waited";
        };
    }

    private String pause(Process process, long millis) throws Exception {
        signal(process, "STOP");
        pausedUntil.put(process, System.currentTimeMillis() + millis);
        resumer.schedule(() -> {
            if (pausedUntil.remove(process) != null) {
                signalQuietly(process, "CONT");
            }
        }, millis, TimeUnit.MILLISECONDS);
        return "paused pid " + process.pid() + " for " + millis + " ms";
    }

    /** Resumes every paused process, keeps one worker alive, and waits until commands and migrations are all done. */
    private String settle() throws Exception {
        for (Process process : List.copyOf(pausedUntil.keySet())) {
            pausedUntil.remove(process);
            signalQuietly(process, "CONT");
        }
        if (workers.stream().noneMatch(Process::isAlive)) {
            note("settle: started pid " + startWorker().pid() + " (no worker was alive)");
        }
        long deadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()));
             TopicTable<MigrationState> migrations = new TopicTable<>(cluster.bootstrapServers(), catalog.migrations(), catalog.controlDlq().name(), "bench")) {
            TopicPartition partition = new TopicPartition(catalog.commands().name(), 0);
            while (System.nanoTime() < deadline) {
                long end = admin.listOffsets(Map.of(partition, org.apache.kafka.clients.admin.OffsetSpec.latest())).partitionResult(partition).get().offset();
                OffsetAndMetadata committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().get(partition);
                List<MigrationState> open = migrations.refresh().values().values().stream().filter(m -> !MigrationPhases.ended(m)).toList();
                if (committed != null && committed.offset() >= end && open.isEmpty()) {
                    return null;
                }
                Thread.sleep(500);
            }
            return "did not settle within " + SETTLE_TIMEOUT + ": migrations not ended " + migrations.refresh().values().values().stream()
                .filter(m -> !MigrationPhases.ended(m)).map(m -> m.getMigrationId() + " " + m.getPhase() + (m.getError() == null ? "" : " (" + m.getError() + ")"))
                .toList();
        }
    }

    private List<String> check() {
        List<String> problems = new ArrayList<>();
        Map<String, MongoClient> shards = new HashMap<>();
        try (TopicTable<ChunkRoute> routing = new TopicTable<>(cluster.bootstrapServers(), catalog.routing(), catalog.controlDlq().name(), "bench");
             TopicTable<MigrationState> migrations = new TopicTable<>(cluster.bootstrapServers(), catalog.migrations(), catalog.controlDlq().name(), "bench")) {
            cluster.shards().forEach((shard, embedded) -> shards.put(shard, MongoClients.create(embedded.connectionString())));
            List<ChunkRoute> routes = routing.refresh().values().values().stream().filter(r -> r.getNamespace().equals(namespace)).toList();
            List<String> broken = NamespaceRouting.validate(namespace, routes.stream().map(Chunk::of).toList());
            if (!broken.isEmpty()) {
                problems.add("routing: " + broken);
            }
            WriteLedger.Verdict verdict = ledger.check(shards, List.of(namespace), routes, migrations.refresh().values().values());
            note("checked " + verdict.checked() + " documents: lost " + verdict.lost() + ", resurrected " + verdict.resurrected() + ", duplicated "
                + verdict.duplicated() + ", unknown " + verdict.unknown() + "; " + routes.size() + " chunks, " + migrations.values().size() + " migrations");
            if (!verdict.clean() || verdict.duplicated() > 0) {
                problems.add("writes: lost " + verdict.lost() + ", resurrected " + verdict.resurrected() + ", duplicated " + verdict.duplicated()
                    + ", unknown " + verdict.unknown() + ": " + verdict.examples());
            }
            problems.addAll(histories());
        } finally {
            shards.values().forEach(MongoClient::close);
        }
        return problems;
    }

    /** Each migration ended once, and no state of it was published by an older term after a newer one, or after its end. */
    private List<String> histories() {
        List<String> problems = new ArrayList<>();
        Map<String, List<MigrationState>> byMigration = new HashMap<>();
        try (TopicTail<MigrationState> tail = new TopicTail<>(cluster.bootstrapServers(), catalog.migrations(), true, catalog.controlDlq().name(), "bench")) {
            tail.readToEnd().forEach(appended -> byMigration.computeIfAbsent(appended.value().getMigrationId(), k -> new ArrayList<>()).add(appended.value()));
        }
        byMigration.forEach((migration, history) -> {
            long term = -1;
            MigrationState ended = null;
            for (MigrationState state : history) {
                if (ended != null) {
                    problems.add("migration " + migration + ": " + state.getPhase() + " published by " + state.getWorkerId() + " after it ended "
                        + ended.getPhase());
                }
                if (state.getOwnerEpoch() < term) {
                    problems.add("migration " + migration + ": " + state.getPhase() + " published by term " + state.getOwnerEpoch() + " after term " + term);
                }
                term = Math.max(term, state.getOwnerEpoch());
                if (MigrationPhases.ended(state) && ended == null) {
                    ended = state;
                }
            }
        });
        return problems;
    }

    private void write(int writer, Random random) {
        List<String> live = new ArrayList<>();
        while (writing.get()) {
            String id = "w" + writer + "-" + random.nextInt(KEYS_PER_WRITER);
            WriteLedger.Key key = new WriteLedger.Key(namespace, id);
            int value = random.nextInt(1_000_000);
            boolean exists = live.contains(id);
            int choice = random.nextInt(10);
            try {
                if (!exists) {
                    ledger.attempt(key, value);
                    router.insert(TENANT, namespace, List.of(new Document("_id", id).append("userId", id).append("v", value)));
                    live.add(id);
                } else if (choice < 7) {
                    ledger.attempt(key, value);
                    router.update(TENANT, namespace, new Document("_id", id).append("userId", id), new Document("$set", new Document("v", value)), false, false);
                } else {
                    value = WriteLedger.DELETED;
                    ledger.attempt(key, value);
                    router.delete(TENANT, namespace, new Document("_id", id).append("userId", id), false);
                    live.remove(id);
                }
                ledger.acknowledge(key, value);
                acknowledged.incrementAndGet();
            } catch (RuntimeException e) {
                // The outcome is unknown: the ledger allows both values until a later write of this id is acknowledged.
                failed.incrementAndGet();
                if (!exists) {
                    live.add(id);
                }
            }
            try {
                Thread.sleep(3);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private ChunkRoute chunk(int index) {
        try (TopicTable<ChunkRoute> routing = new TopicTable<>(cluster.bootstrapServers(), catalog.routing(), catalog.controlDlq().name(), "bench")) {
            List<ChunkRoute> chunks = routing.refresh().values().values().stream().filter(r -> r.getNamespace().equals(namespace))
                .sorted(Comparator.comparing(r -> KeyHex.of(r.getMin()))).toList();
            return chunks.get(index % chunks.size());
        }
    }

    /** The latest migration that has not ended, waiting a little for one a command just sent may still be planning. */
    private MigrationState latestUnfinished() throws InterruptedException {
        try (TopicTable<MigrationState> migrations = new TopicTable<>(cluster.bootstrapServers(), catalog.migrations(), catalog.controlDlq().name(), "bench")) {
            long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (true) {
                MigrationState latest = migrations.refresh().values().values().stream().filter(m -> !MigrationPhases.ended(m))
                    .max(Comparator.comparing(MigrationState::getStartedAt)).orElse(null);
                if (latest != null || System.nanoTime() > deadline) {
                    return latest;
                }
                Thread.sleep(100);
            }
        }
    }

    private String send(Object body) throws Exception {
        String commandId = UUID.randomUUID().toString();
        commands.send(new ProducerRecord<>(catalog.commands().name(), "model", ShardCommand.newBuilder().setCommandId(commandId)
            .setIssuer("model").setTimestamp(Instant.now()).setCommand(body).build())).get();
        return "command " + commandId.substring(0, 8);
    }

    private Process startWorker() throws Exception {
        Process worker = start(WorkerProcessMain.class, "w" + workers.size(), "4000");
        workers.add(worker);
        return worker;
    }

    private Process start(Class<?> main, String name, String extra) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
            "-cp", System.getProperty("java.class.path"), main.getName(), cluster.bootstrapServers(), cluster.schemaRegistryUrl(), catalog.prefix(),
            name + "-" + id, extra);
        builder.redirectErrorStream(true);
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(new File(logDir.toFile(), "model-" + id + "-" + name + ".log")));
        return builder.start();
    }

    private void awaitLine(Process process, String prefix) throws Exception {
        File file = new File(logDir.toFile(), "model-" + id + "-router.log");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && process.isAlive()) {
            if (file.exists() && java.nio.file.Files.readAllLines(file.toPath()).stream().anyMatch(line -> line.startsWith(prefix))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the router process did not start; see " + file);
    }

    private static void signal(Process process, String signal) throws Exception {
        int exit = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start().waitFor();
        if (exit != 0 && process.isAlive()) {
            throw new IllegalStateException("kill -" + signal + " " + process.pid() + " exited " + exit);
        }
    }

    private static void signalQuietly(Process process, String signal) {
        try {
            if (process.isAlive()) {
                signal(process, signal);
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not send SIG" + signal + " to " + process.pid(), e);
        }
    }

    @Override
    public void close() throws Exception {
        writing.set(false);
        resumer.shutdownNow();
        for (Process process : workers) {
            signalQuietly(process, "CONT");
            process.destroyForcibly().waitFor();
        }
        if (routerProcess != null) {
            signalQuietly(routerProcess, "CONT");
            routerProcess.destroyForcibly().waitFor();
        }
        router.close();
        commands.close();
        publisher.close();
    }
}
