package io.shardline.worker;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.mongodb.client.model.Projections;
import com.mongodb.client.model.Sorts;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.AbortMigration;
import io.shardline.schemas.avro.AddShard;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.DrainShard;
import io.shardline.schemas.avro.MergeShards;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.Rebalance;
import io.shardline.schemas.avro.RollbackMigration;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.SplitChunk;
import io.shardline.schemas.avro.SplitShard;
import io.shardline.worker.internal.ControlPlane;
import io.shardline.worker.internal.Hex;
import io.shardline.worker.internal.MigrationRun;
import io.shardline.worker.internal.Ownership;
import io.shardline.worker.internal.RangeOps;

/**
 * The {@code worker} role. Workers form a consumer group on the commands topic (one partition: one worker carries out
 * commands at a time, the others stand by). A command is checked against the routing and becomes migrations persisted
 * as PLANNED; a runner carries them out one after another up to their cutover, and each grace period then runs beside
 * the runner. When a worker takes the commands over (at start, or after
 * another died), it first resumes every migration the migrations topic shows unfinished, from its last state.
 * Commands are idempotent by command id; invalid ones go to the commands DLQ with the reason, and an event.
 */
public final class MigrationWorker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MigrationWorker.class);

    private final WorkerConfig config;
    private final ControlPlane plane;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final BlockingQueue<String> queue = new LinkedBlockingQueue<>();
    private final Map<String, Request> requests = new ConcurrentHashMap<>();
    private final Object runLock = new Object();
    private final Thread commands;
    private final Thread runner;
    private final Counter copiedDocs;
    private final Counter copiedBytes;
    private final Timer fenceHeld;
    private final Map<String, AtomicLong> replayLag = new ConcurrentHashMap<>();
    private final MeterRegistry registry;
    private final java.util.function.Consumer<MigrationState> observer;
    /** Migrations this worker is carrying out: the runner's, and those whose grace period runs on {@link #graces}. */
    private final Set<String> running = ConcurrentHashMap.newKeySet();
    private final ExecutorService graces;
    private final Ownership ownership;
    private final ScheduledExecutorService renewals;
    /** The commands partition and its consumer's group metadata while this worker owns it (read by the renewals). */
    private volatile TopicPartition owned;
    private volatile ConsumerGroupMetadata group;
    /** The next command offset to commit: where a successor starts. */
    private final AtomicLong nextOffset = new AtomicLong();
    private volatile boolean stopping;

    /** Offset metadata of a term in progress, and of one handed over: a successor waits out the lease only after the first. */
    static final String HELD = "held:";
    static final String HANDED_OVER = "handed-over:";
    /** How long a worker waits for its runs to stop at a hand-over before it lets the commands go anyway. */
    private static final Duration HAND_OVER_WAIT = Duration.ofSeconds(30);
    /** How long a stalled migration waits before it is looked at again. */
    private static final Duration STALL_RETRY = Duration.ofSeconds(30);

    /** A rollback or abort for a migration, handed to the runner if it is carrying that migration out. */
    private record Request(boolean abort, CompletableFuture<Void> persisted) {
    }

    private MigrationWorker(WorkerConfig config, MeterRegistry registry, java.util.function.Consumer<MigrationState> observer) {
        this.config = config;
        this.registry = registry;
        this.observer = observer;
        this.ownership = new Ownership(config.ownerLease());
        this.plane = new ControlPlane(config.bootstrapServers(), config.catalog(), config.workerId(), config.groupId() + ".owner", ownership);
        // Eager assignment: every rebalance ends the term (the runs stop) before the partition is handed to anyone.
        this.consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, config.groupId(), ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false, ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) WorkerConfig.SESSION_TIMEOUT.toMillis(), ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000,
            ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName(),
            ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.copiedDocs = Counter.builder("shard.migration.copied.documents").description("Documents copied by migrations")
            .tag("worker", config.workerId()).register(registry);
        this.copiedBytes = Counter.builder("shard.migration.copied").baseUnit("bytes").description("BSON bytes copied by migrations")
            .tag("worker", config.workerId()).register(registry);
        this.fenceHeld = Timer.builder("shard.migration.fence.duration").description("How long migrations held writes to their range")
            .tag("worker", config.workerId()).register(registry);
        this.commands = new Thread(this::consumeCommands, "worker-commands-" + config.workerId());
        this.runner = new Thread(this::runMigrations, "worker-runner-" + config.workerId());
        AtomicLong graceThreads = new AtomicLong();
        this.graces = Executors.newCachedThreadPool(task -> new Thread(task, "worker-grace-" + config.workerId() + "-" + graceThreads.incrementAndGet()));
        this.renewals = Executors.newSingleThreadScheduledExecutor(task -> new Thread(task, "worker-lease-" + config.workerId()));
    }

    public static MigrationWorker start(WorkerConfig config, MeterRegistry registry) {
        return start(config, registry, state -> LOG.debug("migration {} steps from {}", state.getMigrationId(), state.getPhase()));
    }

    /**
     * @param observer told of every state a migration enters (once published) or is resumed from: for tooling that
     *                 follows migrations in-process
     */
    public static MigrationWorker start(WorkerConfig config, MeterRegistry registry, java.util.function.Consumer<MigrationState> observer) {
        MigrationWorker worker = new MigrationWorker(config, registry, observer);
        worker.commands.start();
        worker.runner.start();
        long every = Math.max(20, config.ownerLease().toMillis() / 5);
        worker.renewals.scheduleWithFixedDelay(worker::renew, every, every, TimeUnit.MILLISECONDS);
        return worker;
    }

    public String workerId() {
        return config.workerId();
    }

    /** True while this worker holds the commands (a term, possibly still waiting out its predecessor's lease). */
    public boolean carriesOutCommands() {
        return ownership.holdsTerm();
    }

    // ------------------------------------------------------------------ commands

    private void consumeCommands() {
        String topic = config.catalog().commands().name();
        try {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    if (!partitions.isEmpty()) {
                        handOver("the commands were revoked in a rebalance");
                    }
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    lose("the group went on without this worker (session expired)");
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    if (!partitions.isEmpty()) {
                        takeOver(partitions.iterator().next());
                    }
                }
            });
            while (!stopping) {
                ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(200));
                if (owned != null) {
                    group = consumer.groupMetadata();
                }
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    if (!carryOut(record)) {
                        break;
                    }
                }
            }
        } catch (WakeupException stop) {
            LOG.debug("worker {} stops consuming commands", config.workerId());
        } catch (RuntimeException e) {
            LOG.error("worker {} command loop failed", config.workerId(), e);
        } finally {
            consumer.close();
        }
    }

    /**
     * Handles one command and commits its offset in a transaction fenced by this term; false when the loop must poll
     * again first (the term ended, or the command is to be retried from its offset).
     */
    private boolean carryOut(ConsumerRecord<byte[], byte[]> record) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        if (!ownership.holdsTerm()) {
            consumer.seek(partition, record.offset());
            return false;
        }
        try {
            handle(record);
            nextOffset.set(record.offset() + 1);
            plane.commitOffset(partition, new OffsetAndMetadata(record.offset() + 1, HELD + config.workerId()), group);
            return true;
        } catch (Ownership.Lost lost) {
            LOG.info("worker {} stops carrying out commands: {}", config.workerId(), lost.getMessage());
            consumer.seek(partition, record.offset());
            return false;
        } catch (RuntimeException failed) {
            LOG.warn("command at {}@{} failed; retried from its offset: {}", record.topic(), record.offset(), failed.toString());
            consumer.seek(partition, record.offset());
            sleepQuietly(1_000);
            return false;
        }
    }

    /**
     * Starts a term: fences every earlier owner's producer, reads from the committed offset's metadata whether the last
     * owner handed the commands over, proves the term once, and resumes every unfinished migration (they run once the
     * lease holds, after the previous owner's lease when it did not hand over).
     */
    private void takeOver(TopicPartition partition) {
        // First the fence: it also aborts a transaction a paused owner left open, which would hold back the read below.
        plane.beginTerm();
        OffsetAndMetadata committed = consumer.committed(java.util.Set.of(partition)).get(partition);
        String previous = committed == null ? "" : committed.metadata();
        boolean handedOver = previous == null || !previous.startsWith(HELD);
        group = consumer.groupMetadata();
        owned = partition;
        nextOffset.set(consumer.position(partition));
        ownership.begin(group.generationId(), handedOver);
        LOG.info("worker {} carries out commands from term {}{}", config.workerId(), group.generationId(),
            handedOver ? "" : " once the lease of " + previous.substring(HELD.length()) + " has run out (" + config.ownerLease().toMillis() + " ms)");
        renew();
        resumeUnfinished();
    }

    /** Renews the lease: a transaction with this term's generation; it fails once another worker owns the commands. */
    private void renew() {
        TopicPartition partition = owned;
        ConsumerGroupMetadata metadata = group;
        long term = ownership.term();
        if (partition == null || metadata == null || !ownership.holdsTerm()) {
            return;
        }
        long started = System.nanoTime();
        try {
            plane.commitOffset(partition, new OffsetAndMetadata(nextOffset.get(), HELD + config.workerId()), metadata);
            ownership.renewed(term, started);
        } catch (Ownership.Lost lost) {
            LOG.info("worker {} lost the commands: {}", config.workerId(), lost.getMessage());
            queue.clear();
        } catch (RuntimeException failed) {
            LOG.warn("worker {} could not renew its lease ({}); its runs stop if the lease runs out", config.workerId(), failed.toString());
        }
    }

    /**
     * Ends the term in order: the runs stop at their next check, then the offset is committed as handed over, so the
     * successor starts at once; when runs do not stop in time the successor waits out the lease instead.
     */
    private void handOver(String why) {
        if (!ownership.holdsTerm()) {
            lose(why);
            return;
        }
        LOG.info("worker {} hands the commands over: {}", config.workerId(), why);
        ownership.handOver(why);
        queue.clear();
        long deadline = System.nanoTime() + HAND_OVER_WAIT.toNanos();
        while (!running.isEmpty() && System.nanoTime() < deadline) {
            sleepQuietly(20);
        }
        if (!running.isEmpty()) {
            LOG.warn("worker {} hands over while {} still run; the successor waits out the lease", config.workerId(), running);
        } else {
            try {
                plane.commitOffset(owned, new OffsetAndMetadata(nextOffset.get(), HANDED_OVER + config.workerId()), group);
            } catch (RuntimeException e) {
                LOG.info("worker {} could not record the hand-over ({}); the successor waits out the lease", config.workerId(), e.toString());
            }
        }
        lose(why);
    }

    private void lose(String why) {
        ownership.ended(why);
        queue.clear();
        owned = null;
        plane.endTerm();
    }

    private void resumeUnfinished() {
        plane.migrations().values().values().stream()
            .filter(m -> !MigrationRun.ended(m))
            .sorted(Comparator.comparing(MigrationState::getStartedAt))
            .forEach(m -> {
                if (!queue.contains(m.getMigrationId()) && !running.contains(m.getMigrationId())) {
                    LOG.info("worker {} resumes migration {} from {}", config.workerId(), m.getMigrationId(), m.getPhase());
                    queue.add(m.getMigrationId());
                }
            });
    }

    private void handle(ConsumerRecord<byte[], byte[]> record) {
        ShardCommand command;
        try {
            command = config.catalog().commands().valueSerde().deserializer().deserialize(record.topic(), record.value());
            if (command == null) {
                throw new IllegalArgumentException("value: a command record needs a value");
            }
        } catch (RuntimeException unreadable) {
            reject(record, null, "value", unreadable);
            return;
        }
        try {
            if (alreadyHandled(command)) {
                LOG.info("command {} was carried out before; skipped", command.getCommandId());
                return;
            }
            Object body = command.getCommand();
            if (body instanceof MoveChunk move) {
                plan(command, move.getNamespace(), Hex.of(move.getChunkMin()), move.getTargetShardId(), null);
                accepted(command, move.getTargetShardId(), move.getNamespace(), "moving chunk " + chunkName(move.getChunkMin()) + " of "
                    + move.getNamespace() + " to " + move.getTargetShardId());
            } else if (body instanceof SplitChunk split) {
                split(command, split.getNamespace(), Hex.of(split.getChunkMin()), Hex.of(split.getSplitKey()), split.getByLoad(), null);
                accepted(command, null, split.getNamespace(), "chunk " + chunkName(split.getChunkMin()) + " of " + split.getNamespace()
                    + " split at " + Hex.of(split.getSplitKey()));
            } else if (body instanceof SplitShard split) {
                splitShard(command, split);
                accepted(command, split.getShardId(), split.getNamespace(), "splitting chunk " + chunkName(split.getChunkMin()) + " of "
                    + split.getNamespace() + " on " + split.getShardId() + " and moving its upper half");
            } else if (body instanceof MergeShards merge) {
                merge(command, merge);
            } else if (body instanceof DrainShard drain) {
                drain(command, drain.getShardId());
            } else if (body instanceof AbortMigration abort) {
                request(command, abort.getMigrationId(), true);
            } else if (body instanceof RollbackMigration rollback) {
                request(command, rollback.getMigrationId(), false);
            } else if (body instanceof Rebalance rebalance) {
                rebalance(command, rebalance.getNamespace());
            } else if (body instanceof AddShard add) {
                addShard(command, add.getShard());
            } else {
                throw new Invalid("command", "unknown command " + body.getClass().getSimpleName());
            }
        } catch (Invalid invalid) {
            reject(record, command, invalid.field, invalid);
        }
    }

    /** A chunk by its min key in hex, {@code min} for the first, as operators name it. */
    private static String chunkName(java.nio.ByteBuffer min) {
        String hex = Hex.of(min);
        return hex.isEmpty() ? "min" : hex;
    }

    /** A command that cannot be carried out, with the field at fault. */
    static final class Invalid extends RuntimeException {
        final String field;

        Invalid(String field, String message) {
            super(field + ": " + message);
            this.field = field;
        }
    }

    private void reject(ConsumerRecord<byte[], byte[]> record, ShardCommand command, String field, Exception why) {
        LOG.warn("command rejected: {}", why.getMessage());
        plane.deadLetter(record, why, field);
        plane.event(ShardEventType.COMMAND_REJECTED, null, null, null, command == null ? null : command.getCommandId(),
            command == null ? null : command.getIssuer(), why.getMessage(), Map.of());
    }

    private boolean alreadyHandled(ShardCommand command) {
        return plane.migrations().values().values().stream().anyMatch(m -> m.getCommandId().equals(command.getCommandId()));
    }

    private void accepted(ShardCommand command, String shardId, String namespace, String what) {
        plane.event(ShardEventType.COMMAND_ACCEPTED, shardId, namespace, null, command.getCommandId(), command.getIssuer(), what, Map.of());
    }

    private ChunkRoute chunk(String namespace, String minHex) {
        ChunkRoute route = plane.routing().get(TopicCatalog.routingKey(namespace, minHex));
        if (route == null) {
            throw new Invalid("command.chunkMin", "no chunk of " + namespace + " starts at '" + minHex + "'");
        }
        return route;
    }

    private ShardDescriptor activeShard(String shardId, String field) {
        ShardDescriptor shard = shardId == null ? null : plane.shards().get(shardId);
        if (shard == null) {
            throw new Invalid(field, "unknown shard '" + shardId + "'");
        }
        if (shard.getState() != ShardState.ACTIVE) {
            throw new Invalid(field, "shard " + shardId + " is " + shard.getState() + ", not ACTIVE");
        }
        return shard;
    }

    /** Checks a chunk move and persists it as PLANNED. */
    private void plan(ShardCommand command, String namespace, String minHex, String targetShardId, String expectedOwner) {
        ChunkRoute route = chunk(namespace, minHex);
        if (expectedOwner != null && !expectedOwner.equals(route.getShardId())) {
            throw new Invalid("command.shardId", "the chunk at '" + minHex + "' of " + namespace + " is owned by " + route.getShardId()
                + ", not " + expectedOwner);
        }
        if (route.getState() != ChunkState.ACTIVE || route.getMigrationId() != null) {
            throw new Invalid("command.chunkMin", "the chunk at '" + minHex + "' of " + namespace + " is already migrating ("
                + route.getState() + ", migration " + route.getMigrationId() + ")");
        }
        activeShard(targetShardId, "command.targetShardId");
        if (targetShardId.equals(route.getShardId())) {
            throw new Invalid("command.targetShardId", "the chunk already lives on " + targetShardId);
        }
        String migrationId = UUID.nameUUIDFromBytes((command.getCommandId() + "|" + namespace + "|" + minHex).getBytes()).toString();
        requireNoPlannedMigration(namespace, minHex, migrationId);
        Instant now = Instant.now();
        MigrationState planned = MigrationState.newBuilder().setMigrationId(migrationId).setCommandId(command.getCommandId())
            .setNamespace(namespace).setChunkMin(route.getMin()).setChunkMax(route.getMax()).setSourceShardId(route.getShardId())
            .setTargetShardId(targetShardId).setPhase(MigrationPhase.PLANNED).setWorkerId(config.workerId()).setOwnerEpoch(ownership.term())
            .setStartedAt(now).setUpdatedAt(now).build();
        plane.publishMigration(planned);
        plane.event(ShardEventType.MIGRATION_STARTED, route.getShardId(), namespace, migrationId, command.getCommandId(), command.getIssuer(),
            "move [" + minHex + ", " + (route.getMax() == null ? "+inf" : Hex.of(route.getMax())) + ") of " + namespace + " from "
                + route.getShardId() + " to " + targetShardId, Map.of());
        queue.add(migrationId);
    }

    /**
     * The route is marked MIGRATING only when the runner takes a migration up: until then the migrations table is what
     * shows a chunk already planned to move, and neither a second move nor a split may take it.
     */
    private void requireNoPlannedMigration(String namespace, String minHex, String exceptMigrationId) {
        plane.migrations().values().values().stream()
            .filter(m -> !MigrationRun.ended(m) && m.getNamespace().equals(namespace) && Hex.of(m.getChunkMin()).equals(minHex)
                && !m.getMigrationId().equals(exceptMigrationId))
            .findFirst().ifPresent(other -> {
                throw new Invalid("command.chunkMin", "the chunk at '" + minHex + "' of " + namespace + " is already planned to move ("
                    + other.getPhase() + ", migration " + other.getMigrationId() + ")");
            });
    }

    /** Metadata only: one chunk becomes two on the same shard. Returns the upper chunk's min. */
    private String split(ShardCommand command, String namespace, String minHex, String splitHex, boolean byLoad, String expectedOwner) {
        ChunkRoute route = chunk(namespace, minHex);
        String maxHex = Hex.of(route.getMax());
        if (expectedOwner != null && !expectedOwner.equals(route.getShardId())) {
            throw new Invalid("command.shardId", "the chunk is owned by " + route.getShardId() + ", not " + expectedOwner);
        }
        if (maxHex != null && maxHex.equals(splitHex)) {
            ChunkRoute upper = plane.routing().get(TopicCatalog.routingKey(namespace, splitHex));
            if (upper != null && upper.getShardId().equals(route.getShardId())) {
                return splitHex; // split before: repeated command
            }
        }
        if (splitHex == null || splitHex.compareTo(minHex) <= 0 || (maxHex != null && splitHex.compareTo(maxHex) >= 0)) {
            throw new Invalid("command.splitKey", "'" + splitHex + "' is not inside the chunk [" + minHex + ", " + (maxHex == null ? "+inf" : maxHex) + ")");
        }
        if (route.getState() != ChunkState.ACTIVE || route.getMigrationId() != null) {
            throw new Invalid("command.chunkMin", "the chunk is migrating (" + route.getState() + "); split it after the migration");
        }
        requireNoPlannedMigration(namespace, minHex, null);
        Instant splitAt = byLoad ? Instant.now() : route.getSplitByLoadAt();
        // Both halves or neither: each is checked against the routing it was derived from.
        plane.atomically(() -> {
            plane.publishRoute(ChunkRoute.newBuilder(route).setMin(Hex.bytes(splitHex)).setVersion(route.getVersion() + 1).setSplitByLoadAt(splitAt).build());
            plane.publishRoute(ChunkRoute.newBuilder(route).setMax(Hex.bytes(splitHex)).setVersion(route.getVersion() + 1).setSplitByLoadAt(splitAt).build());
        });
        plane.event(ShardEventType.ROUTING_CHANGED, route.getShardId(), namespace, null, command.getCommandId(), command.getIssuer(),
            "split [" + minHex + ", " + (maxHex == null ? "+inf" : maxHex) + ") at " + splitHex + (byLoad ? " (by load)" : ""), Map.of());
        return splitHex;
    }

    private void splitShard(ShardCommand command, SplitShard split) {
        activeShard(split.getShardId(), "command.shardId");
        String minHex = Hex.of(split.getChunkMin());
        ChunkRoute route = chunk(split.getNamespace(), minHex);
        String splitHex = split.getSplitKey() == null ? medianKey(route) : Hex.of(split.getSplitKey());
        String target = split.getTargetShardId() == null ? leastUsedShard(List.of(split.getShardId())) : split.getTargetShardId();
        activeShard(target, "command.targetShardId");
        String upper = split(command, split.getNamespace(), minHex, splitHex, split.getByLoad(), split.getShardId());
        plan(command, split.getNamespace(), upper, target, split.getShardId());
    }

    /** The median stored key of a chunk on its shard, read from the shard itself. */
    private String medianKey(ChunkRoute route) {
        RangeOps ops = new RangeOps(plane.collection(route.getShardId(), route.getNamespace()), plane.collection(route.getShardId(), route.getNamespace()),
            Hex.of(route.getMin()), Hex.of(route.getMax()));
        long count = ops.count();
        RawBsonDocument median = plane.collection(route.getShardId(), route.getNamespace()).find(ops.rangeFilter())
            .projection(Projections.include(RangeOps.KEY_FIELD)).sort(Sorts.ascending(RangeOps.KEY_FIELD)).skip((int) (count / 2)).first();
        if (median == null || !(median.get(RangeOps.KEY_FIELD) instanceof BsonString key) || key.getValue().equals(Hex.of(route.getMin()))) {
            throw new Invalid("command.splitKey", "none given, and the chunk holds no key to split at");
        }
        return key.getValue();
    }

    private String leastUsedShard(List<String> excluded) {
        Map<String, Integer> chunks = new HashMap<>();
        plane.shards().values().values().stream().filter(s -> s.getState() == ShardState.ACTIVE && !excluded.contains(s.getShardId()))
            .forEach(s -> chunks.put(s.getShardId(), 0));
        plane.routing().values().values().forEach(r -> chunks.computeIfPresent(r.getShardId(), (id, n) -> n + 1));
        return chunks.entrySet().stream().min(Map.Entry.<String, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
            .map(Map.Entry::getKey).orElseThrow(() -> new Invalid("command.targetShardId", "no other ACTIVE shard to move to"));
    }

    private List<ChunkRoute> chunksOf(String shardId) {
        return plane.routing().values().values().stream().filter(r -> r.getShardId().equals(shardId))
            .sorted(Comparator.comparing(ChunkRoute::getNamespace).thenComparing(r -> Hex.of(r.getMin()))).toList();
    }

    private void merge(ShardCommand command, MergeShards merge) {
        ShardDescriptor source = activeShard(merge.getSourceShardId(), "command.sourceShardId");
        activeShard(merge.getTargetShardId(), "command.targetShardId");
        if (merge.getSourceShardId().equals(merge.getTargetShardId())) {
            throw new Invalid("command.targetShardId", "a shard cannot be merged into itself");
        }
        plane.publishShard(ShardDescriptor.newBuilder(source).setState(ShardState.DRAINING).setVersion(source.getVersion() + 1)
            .setUpdatedAt(Instant.now()).build());
        accepted(command, merge.getSourceShardId(), null, "merging " + merge.getSourceShardId() + " into " + merge.getTargetShardId());
        for (ChunkRoute route : chunksOf(merge.getSourceShardId())) {
            plan(command, route.getNamespace(), Hex.of(route.getMin()), merge.getTargetShardId(), null);
        }
        retireIfEmpty(merge.getSourceShardId());
    }

    private void drain(ShardCommand command, String shardId) {
        ShardDescriptor shard = activeShard(shardId, "command.shardId");
        List<ChunkRoute> chunks = chunksOf(shardId);
        plane.publishShard(ShardDescriptor.newBuilder(shard).setState(ShardState.DRAINING).setVersion(shard.getVersion() + 1)
            .setUpdatedAt(Instant.now()).build());
        accepted(command, shardId, null, "draining " + chunks.size() + " chunks off " + shardId);
        for (ChunkRoute route : chunks) {
            plan(command, route.getNamespace(), Hex.of(route.getMin()), leastUsedShard(List.of(shardId)), null);
        }
        retireIfEmpty(shardId);
    }

    private void rebalance(ShardCommand command, String namespace) {
        Map<String, List<ChunkRoute>> byShard = new HashMap<>();
        plane.shards().values().values().stream().filter(s -> s.getState() == ShardState.ACTIVE)
            .forEach(s -> byShard.put(s.getShardId(), new ArrayList<>()));
        plane.routing().values().values().stream()
            .filter(r -> (namespace == null || namespace.equals(r.getNamespace())) && r.getState() == ChunkState.ACTIVE && r.getMigrationId() == null)
            .forEach(r -> byShard.computeIfPresent(r.getShardId(), (id, list) -> {
                list.add(r);
                return list;
            }));
        int moves = 0;
        while (byShard.size() > 1) {
            var most = byShard.entrySet().stream().max(Comparator.comparingInt(e -> e.getValue().size())).orElseThrow();
            var least = byShard.entrySet().stream().min(Comparator.comparingInt(e -> e.getValue().size())).orElseThrow();
            if (most.getValue().size() - least.getValue().size() <= 1) {
                break;
            }
            ChunkRoute moving = most.getValue().remove(most.getValue().size() - 1);
            least.getValue().add(moving);
            plan(command, moving.getNamespace(), Hex.of(moving.getMin()), least.getKey(), null);
            moves++;
        }
        accepted(command, null, namespace, "rebalance: " + moves + " chunk moves planned");
    }

    private void addShard(ShardCommand command, ShardDescriptor shard) {
        if (shard.getShardId() == null || shard.getShardId().isBlank()) {
            throw new Invalid("command.shard.shardId", "must not be blank");
        }
        if (plane.shards().get(shard.getShardId()) != null) {
            throw new Invalid("command.shard.shardId", "shard " + shard.getShardId() + " is registered already");
        }
        plane.publishShard(shard);
        plane.event(ShardEventType.SHARD_REGISTERED, shard.getShardId(), null, null, command.getCommandId(), command.getIssuer(),
            "shard " + shard.getShardId() + " registered at " + shard.getConnectionString(), Map.of());
    }

    private void request(ShardCommand command, String migrationId, boolean abort) {
        String field = "command.migrationId";
        MigrationState migration = plane.migrations().get(migrationId);
        if (migration == null) {
            throw new Invalid(field, "no migration " + migrationId);
        }
        if (MigrationRun.ended(migration)) {
            throw new Invalid(field, "migration " + migrationId + " has ended (" + migration.getPhase() + ")");
        }
        if (abort && migration.getPhase() == MigrationPhase.CUT_OVER) {
            throw new Invalid(field, "migration " + migrationId + " has cut over; roll it back instead of aborting it");
        }
        Request handed = null;
        synchronized (runLock) {
            if (running.contains(migrationId)) {
                handed = new Request(abort, new CompletableFuture<>());
                requests.put(migrationId, handed);
            } else {
                plane.publishMigration(MigrationState.newBuilder(migration).setAbortRequested(migration.getAbortRequested() || abort)
                    .setRollbackRequested(migration.getRollbackRequested() || !abort).setOwnerEpoch(ownership.term())
                    .setUpdatedAt(Instant.now()).build());
            }
        }
        if (handed != null) {
            // Not under the run lock: the run that takes the request in may need it to end meanwhile.
            handed.persisted().orTimeout(60, TimeUnit.SECONDS).join();
        }
        accepted(command, migration.getSourceShardId(), migration.getNamespace(), (abort ? "abort" : "rollback") + " of " + migrationId);
    }

    // ------------------------------------------------------------------ runner

    private void runMigrations() {
        while (!stopping) {
            String migrationId;
            try {
                migrationId = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (migrationId == null) {
                continue;
            }
            try {
                if (!ownership.awaitValid(config.ownerLease().plus(HAND_OVER_WAIT))) {
                    if (ownership.holdsTerm()) {
                        queue.add(migrationId); // the lease could not be renewed yet: try again
                    }
                    continue; // else the term ended: the next owner resumes the migration
                }
            } catch (InterruptedException e) {
                return;
            }
            MigrationState state;
            synchronized (runLock) {
                state = plane.migrations().get(migrationId);
                if (state == null || MigrationRun.ended(state) || !running.add(migrationId)) {
                    continue; // ended, or already running here (its grace period, say): one run per migration
                }
            }
            boolean inGrace = false;
            boolean retry = false;
            try {
                MigrationState reached = new MigrationRun(plane, config, listener(), state, () -> pending(migrationId)).run(false);
                retireIfEmpty(reached.getSourceShardId());
                if (reached.getPhase() == MigrationPhase.CUT_OVER) {
                    graces.execute(() -> finishGrace(migrationId));
                    inGrace = true;
                } else {
                    LOG.info("migration {} ended {}", migrationId, reached.getPhase());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Ownership.Lost lost) {
                LOG.info("migration {} stops in {}: {}", migrationId, state.getPhase(), lost.getMessage());
                retry = ownership.holdsTerm(); // stopped by a term that ended while this worker began another
            } catch (MigrationRun.Stalled stalled) {
                retryLater(migrationId);
            } catch (RuntimeException e) {
                if (stoppedByTermEnd(migrationId, e)) {
                    continue;
                }
                failed(state, e);
                retry = true;
            } finally {
                if (!inGrace) {
                    synchronized (runLock) {
                        running.remove(migrationId);
                    }
                }
            }
            if (retry && ownership.holdsTerm()) {
                queue.add(migrationId);
            }
        }
    }

    /**
     * The grace period of a migration that has cut over, beside the runner, which goes on with the next migration: a
     * merge's chunks do not wait for each other's grace periods.
     */
    private void finishGrace(String migrationId) {
        boolean retry = false;
        MigrationState state = plane.migrations().get(migrationId);
        try {
            MigrationState end = new MigrationRun(plane, config, listener(), state, () -> pending(migrationId)).run();
            LOG.info("migration {} ended {}", migrationId, end.getPhase());
            retireIfEmpty(end.getSourceShardId());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Ownership.Lost lost) {
            LOG.info("migration {} stops in its grace period: {}", migrationId, lost.getMessage());
            retry = ownership.holdsTerm();
        } catch (MigrationRun.Stalled stalled) {
            retryLater(migrationId);
        } catch (RuntimeException e) {
            if (!stoppedByTermEnd(migrationId, e)) {
                failed(state, e);
                retry = !stopping && ownership.holdsTerm();
            }
        } finally {
            synchronized (runLock) {
                running.remove(migrationId);
            }
        }
        if (retry) {
            queue.add(migrationId);
        }
    }

    /** True (and logged) when a failure comes from the end of this worker's term, wrapped by a step: not a failure of the migration. */
    private boolean stoppedByTermEnd(String migrationId, Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof Ownership.Lost lost) {
                LOG.info("migration {} stops: {}", migrationId, lost.getMessage());
                return true;
            }
        }
        return false;
    }

    /** A stalled migration is looked at again after a while, if this worker still owns the commands then. */
    private void retryLater(String migrationId) {
        long term = ownership.term();
        renewals.schedule(() -> {
            if (ownership.term() == term && ownership.holdsTerm() && !queue.contains(migrationId)) {
                queue.add(migrationId);
            }
        }, STALL_RETRY.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void failed(MigrationState state, RuntimeException e) {
        LOG.error("migration {} failed; it is retried from its last state", state.getMigrationId(), e);
        plane.event(ShardEventType.MIGRATION_FAILED, state.getSourceShardId(), state.getNamespace(), state.getMigrationId(), state.getCommandId(),
            null, "step failed, retried from the last state: " + e.getMessage(), Map.of());
        sleepQuietly(1_000);
    }

    /** Requests for the running migration: the runner takes them into the state it publishes. */
    private MigrationState pending(String migrationId) {
        Request request = requests.remove(migrationId);
        MigrationState persisted = plane.migrations().get(migrationId);
        if (request == null) {
            return persisted;
        }
        // Called on the runner's thread: what is persisted is the runner's last published state, so adding the request
        // to it loses nothing, and once it is published the command may be committed.
        MigrationState withRequest = MigrationState.newBuilder(persisted).setAbortRequested(persisted.getAbortRequested() || request.abort())
            .setRollbackRequested(persisted.getRollbackRequested() || !request.abort()).setUpdatedAt(Instant.now()).build();
        plane.publishMigration(withRequest);
        request.persisted().complete(null);
        return withRequest;
    }

    /** A DRAINING shard that owns no chunk and has no migration still running from it (a grace period, a range delete) retires. */
    private synchronized void retireIfEmpty(String shardId) {
        ShardDescriptor shard = plane.shards().get(shardId);
        boolean stillMoving = plane.migrations().values().values().stream()
            .anyMatch(m -> m.getSourceShardId().equals(shardId) && !MigrationRun.ended(m));
        if (shard != null && shard.getState() == ShardState.DRAINING && chunksOf(shardId).isEmpty() && !stillMoving) {
            plane.publishShard(ShardDescriptor.newBuilder(shard).setState(ShardState.RETIRED).setVersion(shard.getVersion() + 1)
                .setUpdatedAt(Instant.now()).build());
            plane.event(ShardEventType.SHARD_STATE_CHANGED, shardId, null, null, null, null, shardId + " owns no chunk any more: RETIRED", Map.of());
        }
    }

    private MigrationRun.Listener listener() {
        return new MigrationRun.Listener() {
            @Override
            public void step(MigrationState state) {
                Counter.builder("shard.migration.steps").description("Migration states entered or resumed from")
                    .tag("worker", config.workerId()).tag("phase", state.getPhase().name().toLowerCase(java.util.Locale.ROOT))
                    .register(registry).increment();
                observer.accept(state);
            }

            @Override
            public void copied(long documents, long bytes) {
                copiedDocs.increment(documents);
                copiedBytes.increment(bytes);
            }

            @Override
            public void replayLag(String migrationId, long events, long millis) {
                replayLag.computeIfAbsent(migrationId, id -> {
                    AtomicLong lag = new AtomicLong();
                    Gauge.builder("shard.migration.replay.lag", lag, AtomicLong::get).description("CDC events not yet replayed")
                        .tag("migration", id).register(registry);
                    return lag;
                }).set(events);
            }

            @Override
            public void fenceHeld(Duration held) {
                fenceHeld.record(held);
            }

            @Override
            public void throttled(Duration paused) {
                Timer.builder("shard.migration.copy.throttled").description("Pauses of the copy for a slow target")
                    .tag("worker", config.workerId()).register(registry).record(paused);
            }
        };
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stopping = true;
        // The command loop hands the commands over as its consumer closes: the runs stop first, then the offset says so.
        consumer.wakeup();
        try {
            commands.join(HAND_OVER_WAIT.toMillis() + 10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        renewals.shutdownNow();
        runner.interrupt();
        graces.shutdownNow();
        try {
            runner.join(10_000);
            graces.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        plane.close();
    }
}
