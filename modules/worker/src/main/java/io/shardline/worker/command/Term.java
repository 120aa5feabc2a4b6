package io.shardline.worker.command;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.worker.plane.ControlPlane;
import io.shardline.worker.plane.Ownership;
import io.shardline.worker.runner.MigrationRunner;

/**
 * One partition of the worker group held by this worker, for one group generation: the commands partition (planning
 * and admitting migrations) or one migration lane (carrying out the migrations admitted to it). Each has its own
 * transactional producer ({@link ControlPlane}), whose transactional id is the same for whichever worker holds the
 * partition, so a successor fences its predecessor, and its own lease ({@link Ownership}), renewed by committing the
 * partition's offset with the group generation. The offset's metadata says whether the holder handed the partition over
 * in order, so that a successor need not wait out the lease.
 */
final class Term {

    private static final Logger LOG = LoggerFactory.getLogger(Term.class);
    /** Offset metadata of a term in progress, and of one handed over: a successor waits out the lease only after the first. */
    static final String HELD = "held:";
    static final String HANDED_OVER = "handed-over:";

    private final String name;
    private final String workerId;
    private final ControlPlane plane;
    private final Duration lease;
    /** The lane's runner, or null for the commands. */
    private final MigrationRunner runner;
    private volatile TopicPartition partition;
    private volatile ConsumerGroupMetadata group;
    /** The next offset to commit: where a successor starts. */
    private final AtomicLong nextOffset = new AtomicLong();

    Term(String name, String workerId, ControlPlane plane, Duration lease, MigrationRunner runner) {
        this.name = name;
        this.workerId = workerId;
        this.plane = plane;
        this.lease = lease;
        this.runner = runner;
    }

    String name() {
        return name;
    }

    ControlPlane plane() {
        return plane;
    }

    Ownership ownership() {
        return plane.ownership();
    }

    /** The lane's runner; null for the commands. */
    MigrationRunner runner() {
        return runner;
    }

    boolean holds() {
        return partition != null && plane.ownership().holdsTerm();
    }

    /**
     * Starts the term: fences every earlier holder's producer (aborting what it left open, which would hold back the
     * read below), reads from the committed offset's metadata whether the last holder handed over, proves the term
     * once, and resumes the lane's unfinished migrations (they run once the lease holds).
     */
    void takeOver(KafkaConsumer<byte[], byte[]> consumer, TopicPartition assigned) {
        plane.beginTerm();
        OffsetAndMetadata committed = consumer.committed(Set.of(assigned)).get(assigned);
        String previous = committed == null ? "" : committed.metadata();
        boolean handedOver = previous == null || !previous.startsWith(HELD);
        group = consumer.groupMetadata();
        partition = assigned;
        nextOffset.set(consumer.position(assigned));
        plane.ownership().begin(group.generationId(), handedOver);
        LOG.info("worker {} holds {} from term {}{}", workerId, name, group.generationId(),
            handedOver ? "" : " once the lease of " + previous.substring(HELD.length()) + " has run out (" + lease.toMillis() + " ms)");
        renew();
        if (runner != null) {
            runner.resumeUnfinished();
        }
    }

    /** The consumer's latest group metadata (read after each poll): the generation a commit is fenced by. */
    void polled(KafkaConsumer<byte[], byte[]> consumer) {
        if (partition != null) {
            group = consumer.groupMetadata();
        }
    }

    /** Commits the offset after a record carried out, in a transaction fenced by this term. */
    void carriedOut(long offset) {
        nextOffset.set(offset + 1);
        plane.commitOffset(partition, new OffsetAndMetadata(offset + 1, HELD + workerId), group);
    }

    /** Renews the lease: a transaction with this term's generation; it fails once another worker holds the partition. */
    void renew() {
        TopicPartition held = partition;
        ConsumerGroupMetadata metadata = group;
        Ownership ownership = plane.ownership();
        long term = ownership.term();
        if (held == null || metadata == null || !ownership.holdsTerm() || metadata.generationId() != term) {
            return; // no term, or read across a hand-over: the next renewal reads the new term's generation
        }
        long started = System.nanoTime();
        try {
            plane.commitOffset(held, new OffsetAndMetadata(nextOffset.get(), HELD + workerId), metadata);
            ownership.renewed(term, started);
        } catch (Ownership.Lost lost) {
            LOG.info("worker {} lost {}: {}", workerId, name, lost.getMessage());
        } catch (RuntimeException failed) {
            LOG.warn("worker {} could not renew its lease of {} ({}); its runs stop if the lease runs out", workerId, name, failed.toString());
        }
    }

    /** The first half of a hand-over: runs stop at their next check, and nothing more is queued. */
    void stopRuns(String why) {
        plane.ownership().handOver(why);
        if (runner != null) {
            runner.clear();
        }
    }

    boolean idle() {
        return runner == null || runner.idle();
    }

    /**
     * The second half: once the runs stopped the offset is committed as handed over, so the successor starts at once;
     * when they did not stop in time the successor waits out the lease instead. The term ends either way.
     */
    void handOver(String why) {
        if (partition != null && idle()) {
            try {
                plane.commitOffset(partition, new OffsetAndMetadata(nextOffset.get(), HANDED_OVER + workerId), group);
            } catch (RuntimeException e) {
                LOG.info("worker {} could not record the hand-over of {} ({}); the successor waits out the lease", workerId, name, e.toString());
            }
        } else if (partition != null) {
            LOG.warn("worker {} hands {} over while {} still run; the successor waits out the lease", workerId, name, runner.describeRunning());
        }
        lose(why);
    }

    /** The term is over: nothing more is run or published under it. */
    void lose(String why) {
        plane.ownership().ended(why);
        if (runner != null) {
            runner.clear();
        }
        partition = null;
        plane.endTerm();
    }

    /** Stops the lane's runner and closes the plane (the commands' plane is closed by the worker). */
    void close() {
        if (runner != null) {
            runner.close();
            plane.close();
        }
    }
}
