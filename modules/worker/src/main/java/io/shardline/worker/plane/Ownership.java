package io.shardline.worker.plane;

import java.time.Duration;

/**
 * Whether this worker may change anything: the one owner of the commands partition (and with it of every unfinished
 * migration) for one term. A term starts when the partition is assigned; it is held by a lease that the worker renews
 * by committing a transaction carrying its consumer group generation (a successor's producer, or a newer generation,
 * makes that commit fail). Every side effect of a migration (a write or delete on a shard, a publication) is preceded
 * by {@link #check()}, which fails once the lease has run out, the term was handed over, or the worker was fenced.
 *
 * <p>A successor that takes over from a worker that did not hand the term over (it crashed, or was paused past its
 * session timeout) waits one lease before its first side effect: the predecessor's last renewal began before the
 * successor fenced its producer, so by then the predecessor has stopped by itself.
 */
public final class Ownership {

    /** Thrown by {@link #check()}: the run stops where it is, without publishing; the owner resumes it from its last state. */
    public static final class Lost extends RuntimeException {
        public Lost(String message) {
            super(message, null, false, false);
        }
    }

    private final Duration lease;
    private volatile long term = -1;
    private volatile long validUntilNanos;
    private volatile long readyAtNanos;
    private volatile boolean handingOver = true;
    private volatile String why = "no term yet: the commands partition is not assigned to this worker";

    public Ownership(Duration lease) {
        this.lease = lease;
    }

    /**
     * A new term (the partition assigned at this group generation). Nothing may change a shard until a renewal succeeds
     * and, when the predecessor did not hand over, one lease has passed.
     */
    public synchronized void begin(long generation, boolean predecessorHandedOver) {
        term = generation;
        validUntilNanos = System.nanoTime();
        readyAtNanos = System.nanoTime() + (predecessorHandedOver ? 0 : lease.toNanos());
        handingOver = false;
        why = null;
    }

    /** A renewal that began at {@code startedNanos} committed: the lease holds for one lease from then. */
    public synchronized void renewed(long generation, long startedNanos) {
        if (generation == term && !handingOver) {
            validUntilNanos = Math.max(validUntilNanos, startedNanos + lease.toNanos());
        }
    }

    /** The term ends by a hand-over: runs stop at their next check. Publications stay possible until {@link #ended}. */
    public synchronized void handOver(String reason) {
        handingOver = true;
        why = reason;
    }

    /** The term is over (handed over, or lost): nothing may be changed or published any more. */
    public synchronized void ended(String reason) {
        handingOver = true;
        validUntilNanos = 0;
        why = reason;
        term = -1;
    }

    /** The generation of the current term, or -1. */
    public long term() {
        return term;
    }

    /** True while the term lasts and its lease holds (runs may go on). */
    public boolean valid() {
        long now = System.nanoTime();
        return !handingOver && term >= 0 && now - readyAtNanos >= 0 && now - validUntilNanos < 0;
    }

    /** True while this worker holds a term, even before its first renewal or while it waits out a predecessor's lease. */
    public boolean holdsTerm() {
        return !handingOver && term >= 0;
    }

    /** Fails unless this worker may change a shard now. */
    public void check() {
        if (!valid()) {
            throw new Lost(reason());
        }
    }

    /** Why {@link #check()} fails now. */
    public String reason() {
        if (why != null) {
            return why;
        }
        long now = System.nanoTime();
        if (now - readyAtNanos < 0) {
            return "waiting out the previous owner's lease for " + (readyAtNanos - now) / 1_000_000 + " ms more";
        }
        return "the lease ran out " + (now - validUntilNanos) / 1_000_000 + " ms ago without a renewal";
    }

    /** Waits until the lease holds (the start of a term), at most {@code timeout}; true when it does. */
    public boolean awaitValid(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!valid()) {
            if (!holdsTerm() || System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }
}
