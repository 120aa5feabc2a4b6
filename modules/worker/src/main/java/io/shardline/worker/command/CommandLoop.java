package io.shardline.worker.command;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardline.schemas.KafkaClients;
import io.shardline.worker.config.WorkerConfig;
import io.shardline.worker.plane.Backoff;
import io.shardline.worker.plane.ControlPlane;
import io.shardline.worker.plane.Ownership;
import io.shardline.worker.runner.MigrationRunner;

/**
 * The commands of a worker group: one partition, so one worker carries them out at a time (its term, see
 * {@link Ownership}) and the others stand by. Each command is handled ({@link CommandHandler}) and its offset committed
 * in a transaction fenced by the term; a lease renewed every fifth of its length proves the term meanwhile. A failure
 * to carry a command out keeps its offset and is retried after a back-off that doubles up to {@link #MAX_RETRY_BACKOFF};
 * a loop that fails as a whole is restarted with a new consumer. When a worker takes the commands over it resumes every
 * unfinished migration; when it lets them go it stops its runs first and says so in the offset's metadata, so that the
 * successor need not wait out the lease.
 */
public final class CommandLoop implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CommandLoop.class);
    /** Offset metadata of a term in progress, and of one handed over: a successor waits out the lease only after the first. */
    static final String HELD = "held:";
    static final String HANDED_OVER = "handed-over:";
    static final Duration FIRST_RETRY_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_RETRY_BACKOFF = Duration.ofSeconds(30);

    private final WorkerConfig config;
    private final ControlPlane plane;
    private final Ownership ownership;
    private final MigrationRunner runner;
    private final CommandHandler handler;
    private final Duration handOverWait;
    private final Thread thread;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    /** The commands partition and its consumer's group metadata while this worker owns it (read by the renewals). */
    private volatile TopicPartition owned;
    private volatile ConsumerGroupMetadata group;
    /** The next command offset to commit: where a successor starts. */
    private final AtomicLong nextOffset = new AtomicLong();
    private int failuresInARow;
    /** Failures of the loop as a whole in a row; a poll that succeeds ends the row. */
    private int loopFailures;
    /** While a failed command waits out its back-off, the partition is paused and the loop keeps polling until then. */
    private long retryAtMillis;
    private volatile boolean stopping;

    private final Counter retried;

    public CommandLoop(WorkerConfig config, ControlPlane plane, MigrationRunner runner, Duration handOverWait, MeterRegistry registry) {
        this.config = config;
        this.plane = plane;
        this.ownership = plane.ownership();
        this.runner = runner;
        this.handOverWait = handOverWait;
        this.handler = new CommandHandler(config, plane, new Planner(plane, runner, config.workerId()));
        this.thread = new Thread(this::supervise, "worker-commands-" + config.workerId());
        this.retried = Counter.builder("shard.commands.retried").description("Commands that failed and are retried from their offset")
            .tag("worker", config.workerId()).register(registry);
    }

    public void start() {
        thread.start();
    }

    /** Eager assignment: every rebalance ends the term (the runs stop) before the partition is handed to anyone. */
    private KafkaConsumer<byte[], byte[]> newConsumer() {
        return KafkaClients.fromEnvironment(config.bootstrapServers()).bytesReader(config.groupId(), Map.of(
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            // It waits for commands, never reads to an end: the broker's default wait saves fetches while idle.
            ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 500,
            ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) WorkerConfig.SESSION_TIMEOUT.toMillis(), ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000,
            ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName(),
            ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1));
    }

    /** Runs the loop; a loop that fails is logged, its term ended, and started again with a new consumer. */
    private void supervise() {
        while (!stopping) {
            try {
                consume();
            } catch (WakeupException stop) {
                LOG.debug("worker {} stops consuming commands", config.workerId());
            } catch (RuntimeException e) {
                loopFailures++;
                LOG.error("worker {} command loop failed; restarted ({} in a row)", config.workerId(), loopFailures, e);
                if (ownership.holdsTerm()) {
                    lose("the command loop failed: " + e);
                }
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
            current.subscribe(List.of(config.catalog().commands().name()), new ConsumerRebalanceListener() {
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
                        takeOver(current, partitions.iterator().next());
                    }
                }
            });
            retryAtMillis = 0;
            while (!stopping) {
                if (retryAtMillis != 0 && System.currentTimeMillis() >= retryAtMillis) {
                    current.resume(current.paused());
                    retryAtMillis = 0;
                }
                if (plane.takeNewTermWanted()) {
                    LOG.warn("worker {} rejoins its group for a new term: its transactional producer failed", config.workerId());
                    current.enforceRebalance("the transactional producer failed");
                }
                ConsumerRecords<byte[], byte[]> records = current.poll(Duration.ofMillis(200));
                loopFailures = 0;
                if (owned != null) {
                    group = current.groupMetadata();
                }
                for (ConsumerRecord<byte[], byte[]> record : records) {
                    if (!carryOut(current, record)) {
                        break;
                    }
                }
            }
        } finally {
            // Closing leaves the group: the rebalance listener hands the commands over first.
            current.close();
        }
    }

    /**
     * Handles one command and commits its offset in a transaction fenced by this term; false when the loop must poll
     * again first (the term ended, or the command is to be retried from its offset after a back-off).
     */
    private boolean carryOut(KafkaConsumer<byte[], byte[]> current, ConsumerRecord<byte[], byte[]> record) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        if (!ownership.holdsTerm()) {
            current.seek(partition, record.offset());
            return false;
        }
        try {
            handler.handle(record);
            nextOffset.set(record.offset() + 1);
            plane.commitOffset(partition, new OffsetAndMetadata(record.offset() + 1, HELD + config.workerId()), group);
            failuresInARow = 0;
            return true;
        } catch (Ownership.Lost lost) {
            LOG.info("worker {} stops carrying out commands: {}", config.workerId(), lost.getMessage());
            current.seek(partition, record.offset());
            return false;
        } catch (RuntimeException failed) {
            failuresInARow++;
            retried.increment();
            Duration backoff = Backoff.exponential(FIRST_RETRY_BACKOFF, MAX_RETRY_BACKOFF, failuresInARow);
            LOG.warn("command at {}@{} failed ({} in a row); retried from its offset in {} ms: {}", record.topic(), record.offset(),
                failuresInARow, backoff.toMillis(), failed.toString());
            // Polled meanwhile, paused: the group membership, a rebalance and a stop are not held up by the back-off.
            current.seek(partition, record.offset());
            current.pause(Set.of(partition));
            retryAtMillis = System.currentTimeMillis() + backoff.toMillis();
            return false;
        }
    }

    /**
     * Starts a term: fences every earlier owner's producer, reads from the committed offset's metadata whether the last
     * owner handed the commands over, proves the term once, and resumes every unfinished migration (they run once the
     * lease holds, after the previous owner's lease when it did not hand over).
     */
    private void takeOver(KafkaConsumer<byte[], byte[]> current, TopicPartition partition) {
        // First the fence: it also aborts a transaction a paused owner left open, which would hold back the read below.
        plane.beginTerm();
        OffsetAndMetadata committed = current.committed(Set.of(partition)).get(partition);
        String previous = committed == null ? "" : committed.metadata();
        boolean handedOver = previous == null || !previous.startsWith(HELD);
        group = current.groupMetadata();
        owned = partition;
        nextOffset.set(current.position(partition));
        ownership.begin(group.generationId(), handedOver);
        LOG.info("worker {} carries out commands from term {}{}", config.workerId(), group.generationId(),
            handedOver ? "" : " once the lease of " + previous.substring(HELD.length()) + " has run out (" + config.ownerLease().toMillis() + " ms)");
        renew();
        runner.resumeUnfinished();
    }

    /** Renews the lease: a transaction with this term's generation; it fails once another worker owns the commands. */
    public void renew() {
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
        runner.clear();
        long deadline = System.nanoTime() + handOverWait.toNanos();
        while (!runner.idle() && System.nanoTime() < deadline) {
            sleepQuietly(20);
        }
        if (!runner.idle()) {
            LOG.warn("worker {} hands over while {} still run; the successor waits out the lease", config.workerId(), runner.describeRunning());
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
        runner.clear();
        owned = null;
        plane.endTerm();
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops the loop: its consumer leaves the group, handing the commands over after the runs stopped. */
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
    }
}
