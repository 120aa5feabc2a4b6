package io.shardline.worker.migration;

/**
 * A migration cannot go on safely for now (a deletion would touch a range its shard owns, the range moved again): it
 * stays where it is, a {@code MIGRATION_STALLED} event says why, and the worker looks again later.
 */
public final class Stalled extends RuntimeException {

    public Stalled(String message) {
        super(message);
    }
}
