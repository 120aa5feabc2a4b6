package io.shardline.worker.command;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardline.schemas.KafkaClients;
import io.shardline.worker.config.WorkerConfig;
import io.shardline.worker.migration.MigrationListener;
import io.shardline.worker.plane.Backoff;
import io.shardline.worker.plane.ControlPlane;
import io.shardline.worker.plane.Ownership;
import io.shardline.worker.runner.MigrationRunner;
import io.shardline.worker.runner.Retirement;

/**
 * The worker group's partitions held by this worker, each a {@link Term}: the one commands partition (whoever holds it
 * checks each command and turns it into PLANNED migrations, splits or shard changes, and admits waiting migrations to
 * lanes, see {@link Admission}) and the partitions of the migration-lanes topic (whoever holds a lane carries out the
 * migrations admitted to it, several lanes in parallel). Each record is carried out and its offset committed in a
 * transaction fenced by its term; a failure keeps the offset and is retried after a back-off that doubles up to
 * {@link #MAX_RETRY_BACKOFF}; a loop that fails as a whole is restarted with a new consumer. When the partitions are
 * taken away, every lane's runs stop first and the offsets say so, so that successors need not wait out the leases.
 */
public final class CommandLoop implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CommandLoop.class);
    static final Duration FIRST_RETRY_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_RETRY_BACKOFF = Duration.ofSeconds(30);
    /** How often the holder of the commands looks for waiting migrations to admit (besides after each command). */
    static final Duration ADMIT_EVERY = Duration.ofMillis(250);
    /**
     * How often the holder of the commands puts chunks back inside their zones (besides after each zone command) and
     * retires the drained shards whose last migration's end the lanes could not see yet.
     */
    static final Duration ENFORCE_ZONES_EVERY = Duration.ofSeconds(5);

    private final WorkerConfig config;
    private final MigrationListener listener;
    private final CommandHandler handler;
    private final Planner planner;
    private final ZoneKeeper zones;
    private final LaneRequests laneRequests;
    private final Duration handOverWait;
    private final Thread thread;
    private final Term commands;
    /** The lanes this worker has held, by partition: created on first assignment, kept (idle) between terms. */
    private final Map<Integer, Term> lanes = new ConcurrentHashMap<>();
    private final ControlPlane plane;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private final Map<TopicPartition, Integer> failuresInARow = new HashMap<>();
    /** Failures of the loop as a whole in a row; a poll that succeeds ends the row. */
    private int loopFailures;
    /** Partitions whose failed record waits out its back-off: paused, and resumed at this time. */
    private final Map<TopicPartition, Long> retryAt = new HashMap<>();
    private long nextAdmission;
    private long nextZoneLook;
    private volatile boolean stopping;

    private final Counter retried;

    public CommandLoop(WorkerConfig config, ControlPlane plane, MigrationListener listener, Duration handOverWait, MeterRegistry registry) {
        this.config = config;
        this.plane = plane;
        this.listener = listener;
        this.handOverWait = handOverWait;
        this.commands = new Term("the commands", config.workerId(), plane, config.ownerLease(), null);
        this.planner = new Planner(plane, config.workerId());
        this.zones = new ZoneKeeper(plane, planner, config.workerId());
        this.handler = new CommandHandler(config, plane, planner, zones);
        this.laneRequests = new LaneRequests(config);
        this.thread = new Thread(this::supervise, "worker-commands-" + config.workerId());
        this.retried = Counter.builder("shard.commands.retried").description("Commands that failed and are retried from their offset")
            .tag("worker", config.workerId()).register(registry);
    }

    public void start() {
        thread.start();
    }

    /** True while this worker holds the commands. */
    public boolean holdsCommands() {
        return commands.holds();
    }

    /** The lanes this worker holds now. */
    public List<Integer> heldLanes() {
        return lanes.entrySet().stream().filter(e -> e.getValue().holds()).map(Map.Entry::getKey).sorted().toList();
    }

    /** Eager assignment: every rebalance ends every term (the runs stop) before a partition is handed to anyone. */
    private KafkaConsumer<byte[], byte[]> newConsumer() {
        return KafkaClients.fromEnvironment(config.bootstrapServers()).bytesReader(config.groupId(), Map.of(
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            // It waits for commands, never reads to an end: the broker's default wait saves fetches while idle.
            ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 500,
            ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) WorkerConfig.SESSION_TIMEOUT.toMillis(), ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000,
            ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName(),
            ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1));
    }

    /** Runs the loop; a loop that fails is logged, its terms ended, and started again with a new consumer. */
    private void supervise() {
        while (!stopping) {
            try {
                consume();
            } catch (WakeupException stop) {
                LOG.debug("worker {} stops consuming commands", config.workerId());
            } catch (RuntimeException e) {
                loopFailures++;
                LOG.error("worker {} command loop failed; restarted ({} in a row)", config.workerId(), loopFailures, e);
                loseAll("the command loop failed: " + e);
                long until = System.currentTimeMillis() + Backoff.exponential(FIRST_RETRY_BACKOFF, MAX_RETRY_BACKOFF, loopFailures).toMillis();
                while (!stopping && System.currentTimeMillis() < until) {
                    sleepQuietly(50);
                }
            }
        }
    }

    private void consume() {
        KafkaConsumer<byte[], byte[]> current = newConsumer();
        consumer = current;
        try {
            if (stopping) {
                return;
            }
            current.subscribe(List.of(config.catalog().commands().name(), config.catalog().migrationLanes().name()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    if (!partitions.isEmpty()) {
                        handOverAll("the partitions were revoked in a rebalance");
                    }
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    loseAll("the group went on without this worker (session expired)");
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    for (TopicPartition partition : partitions) {
                        termOf(partition).takeOver(current, partition);
                    }
                }
            });
            retryAt.clear();
            while (!stopping) {
                resumeDue(current);
                for (Term term : terms()) {
                    if (term.plane().takeNewTermWanted()) {
                        LOG.warn("worker {} rejoins its group for new terms: the transactional producer of {} failed", config.workerId(), term.name());
                        current.enforceRebalance("a transactional producer failed");
                    }
                }
                ConsumerRecords<byte[], byte[]> records = current.poll(Duration.ofMillis(200));
                loopFailures = 0;
                for (Term term : terms()) {
                    term.polled(current);
                }
                for (TopicPartition partition : records.partitions()) {
                    Term term = termOf(partition);
                    for (ConsumerRecord<byte[], byte[]> record : records.records(partition)) {
                        if (!carryOut(current, term, record)) {
                            break;
                        }
                    }
                }
                admitWhenDue(current, !records.isEmpty());
                lookAtZonesAndDrainsWhenDue();
            }
        } finally {
            // Closing leaves the group: the rebalance listener hands the partitions over first.
            current.close();
        }
    }

    private Collection<Term> terms() {
        List<Term> all = new ArrayList<>(lanes.values());
        all.add(commands);
        return all;
    }

    /** The term of a partition: the commands, or a lane's (created with its plane and runner on first use). */
    private Term termOf(TopicPartition partition) {
        if (partition.topic().equals(config.catalog().commands().name())) {
            return commands;
        }
        return lanes.computeIfAbsent(partition.partition(), lane -> {
            ControlPlane lanePlane = plane.sibling(config.groupId() + ".owner.lane-" + lane, new Ownership(config.ownerLease()));
            MigrationRunner runner = new MigrationRunner(lanePlane, config, listener, handOverWait, lane);
            runner.start();
            return new Term("migration lane " + lane, config.workerId(), lanePlane, config.ownerLease(), runner);
        });
    }

    private void resumeDue(KafkaConsumer<byte[], byte[]> current) {
        long now = System.currentTimeMillis();
        retryAt.entrySet().removeIf(due -> {
            if (now >= due.getValue()) {
                current.resume(Set.of(due.getKey()));
                return true;
            }
            return false;
        });
    }

    /**
     * Carries out one record and commits its offset in a transaction fenced by its term; false when the partition must
     * be polled again first (the term ended, or the record is to be retried from its offset after a back-off).
     */
    private boolean carryOut(KafkaConsumer<byte[], byte[]> current, Term term, ConsumerRecord<byte[], byte[]> record) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        if (!term.holds()) {
            current.seek(partition, record.offset());
            return false;
        }
        try {
            if (term == commands) {
                handler.handle(record);
            } else {
                laneRequests.handle(term, record.partition(), record);
            }
            term.carriedOut(record.offset());
            failuresInARow.remove(partition);
            return true;
        } catch (Ownership.Lost lost) {
            LOG.info("worker {} stops carrying out {}: {}", config.workerId(), term.name(), lost.getMessage());
            current.seek(partition, record.offset());
            return false;
        } catch (RuntimeException failed) {
            int failures = failuresInARow.merge(partition, 1, Integer::sum);
            retried.increment();
            Duration backoff = Backoff.exponential(FIRST_RETRY_BACKOFF, MAX_RETRY_BACKOFF, failures);
            LOG.warn("record at {}-{}@{} failed ({} in a row); retried from its offset in {} ms: {}", record.topic(), record.partition(),
                record.offset(), failures, backoff.toMillis(), failed.toString());
            // Polled meanwhile, paused: the group membership, a rebalance and a stop are not held up by the back-off.
            current.seek(partition, record.offset());
            current.pause(Set.of(partition));
            retryAt.put(partition, System.currentTimeMillis() + backoff.toMillis());
            return false;
        }
    }

    /** The holder of the commands admits waiting migrations after each command and every {@link #ADMIT_EVERY}. */
    private void admitWhenDue(KafkaConsumer<byte[], byte[]> current, boolean afterRecords) {
        nextAdmission = whenDue(nextAdmission, afterRecords, ADMIT_EVERY, "admit migrations", () ->
            planner.admit(current.partitionsFor(config.catalog().migrationLanes().name()).size(), config.maxParallelMigrations()));
    }

    /**
     * The holder of the commands retires drained shards and puts chunks back inside their zones every
     * {@link #ENFORCE_ZONES_EVERY}.
     */
    private void lookAtZonesAndDrainsWhenDue() {
        nextZoneLook = whenDue(nextZoneLook, false, ENFORCE_ZONES_EVERY, "look at the drains and zones", () -> {
            Retirement.retireDrained(plane);
            int changes = zones.enforce();
            if (changes > 0) {
                LOG.info("worker {} put {} chunk(s) back inside their zones", config.workerId(), changes);
            }
        });
    }

    /**
     * Runs a task of the holder of the commands when it holds them, its lease holds, and the task is due ({@code now}, or
     * {@code next} has come); a failure is logged and the task tried again at its next time. Returns the next due time.
     */
    private long whenDue(long next, boolean now, Duration every, String what, Runnable task) {
        long at = System.currentTimeMillis();
        if (!commands.holds() || !commands.ownership().valid() || (!now && at < next)) {
            return next;
        }
        try {
            task.run();
        } catch (Ownership.Lost lost) {
            LOG.info("worker {} does not {} now: {}", config.workerId(), what, lost.getMessage());
        } catch (RuntimeException failed) {
            LOG.warn("worker {} could not {} now ({}); it tries again in {} ms", config.workerId(), what, failed.toString(), every.toMillis());
        }
        return at + every.toMillis();
    }

    /** Renews the lease of every term this worker holds. */
    public void renew() {
        for (Term term : terms()) {
            term.renew();
        }
    }

    /**
     * Ends every term in order: the runs of every lane stop at their next check, then each offset is committed as handed
     * over, so successors start at once; a lane whose runs do not stop in time leaves its successor to wait out the lease.
     */
    private void handOverAll(String why) {
        List<Term> held = terms().stream().filter(Term::holds).toList();
        LOG.info("worker {} hands over {}: {}", config.workerId(), held.stream().map(Term::name).toList(), why);
        held.forEach(term -> term.stopRuns(why));
        long deadline = System.nanoTime() + handOverWait.toNanos();
        while (!held.stream().allMatch(Term::idle) && System.nanoTime() < deadline) {
            sleepQuietly(20);
        }
        held.forEach(term -> term.handOver(why));
        loseAll(why);
    }

    private void loseAll(String why) {
        for (Term term : terms()) {
            term.lose(why);
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the loop: its consumer leaves the group, handing everything over after the runs stopped; then the lanes close. */
    @Override
    public void close() {
        stopping = true;
        KafkaConsumer<byte[], byte[]> current = consumer;
        if (current != null) {
            current.wakeup();
        }
        try {
            thread.join(handOverWait.toMillis() + 10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lanes.values().forEach(Term::close);
    }
}
