package io.shardline.worker.migration;

import java.time.Duration;
import java.util.Optional;

/**
 * A migration cannot go on safely for now (a deletion would touch a range its shard owns, the range moved again, one
 * of its shards is DOWN): it stays where it is, a {@code MIGRATION_STALLED} event says why, and the worker looks again
 * later — after {@link #lookAgainAfter()} when the stall says, else after the runner's own wait.
 */
public final class Stalled extends RuntimeException {

    private final transient Duration lookAgainAfter;

    public Stalled(String message) {
        this(message, null);
    }

    public Stalled(String message, Duration lookAgainAfter) {
        super(message);
        this.lookAgainAfter = lookAgainAfter;
    }

    /** How soon what stalled the migration may have changed, when it is known (a shard's health is checked often). */
    public Optional<Duration> lookAgainAfter() {
        return Optional.ofNullable(lookAgainAfter);
    }
}
