package io.shardline.topology.balancer;

import java.time.Duration;
import java.util.Objects;

/**
 * How the balancer decides, beyond the per-namespace thresholds.
 *
 * @param decisionWindow          length of one decision window (thresholds must hold for N consecutive ones)
 * @param maxConcurrentMigrations migrations in flight across the cluster at most
 * @param shardCooldown           after a decision, its shards take part in no other for this long
 * @param commandTimeout          a decided command whose migration has not ended frees its shards after this long
 * @param minActiveShards         a merge never leaves fewer active shards than this
 * @param mergeHeadroom           a shard whose storage or load is within this share of its split thresholds is near
 *                                them; a merge waits while such a shard would be left without a split target of its own
 *                                (0.1: a shard at 90% of a threshold counts)
 * @param issuer                  the issuer written on commands and events
 */
public record BalancerSettings(Duration decisionWindow, int maxConcurrentMigrations, Duration shardCooldown, Duration commandTimeout,
                               int minActiveShards, double mergeHeadroom, String issuer) {

    /** The default share of the split thresholds that counts as near them, for {@link #mergeHeadroom()}. */
    public static final double DEFAULT_MERGE_HEADROOM = 0.1;

    public BalancerSettings {
        Objects.requireNonNull(decisionWindow, "decisionWindow");
        Objects.requireNonNull(shardCooldown, "shardCooldown");
        Objects.requireNonNull(commandTimeout, "commandTimeout");
        Objects.requireNonNull(issuer, "issuer");
        if (decisionWindow.toMillis() < 10) {
            throw new IllegalArgumentException("decisionWindow must be at least 10 ms, was " + decisionWindow);
        }
        if (maxConcurrentMigrations < 1) {
            throw new IllegalArgumentException("maxConcurrentMigrations must be at least 1, was " + maxConcurrentMigrations);
        }
        if (shardCooldown.isNegative() || commandTimeout.isNegative()) {
            throw new IllegalArgumentException("shardCooldown and commandTimeout must not be negative");
        }
        if (minActiveShards < 1) {
            throw new IllegalArgumentException("minActiveShards must be at least 1, was " + minActiveShards);
        }
        if (!(mergeHeadroom >= 0 && mergeHeadroom < 1)) {
            throw new IllegalArgumentException("mergeHeadroom must be at least 0 and under 1, was " + mergeHeadroom);
        }
    }

    public static BalancerSettings defaults() {
        return new BalancerSettings(Duration.ofSeconds(10), 2, Duration.ofMinutes(5), Duration.ofMinutes(30), 1, DEFAULT_MERGE_HEADROOM,
            "controller");
    }

    public BalancerSettings withDecisionWindow(Duration window) {
        return new BalancerSettings(window, maxConcurrentMigrations, shardCooldown, commandTimeout, minActiveShards, mergeHeadroom, issuer);
    }

    public BalancerSettings withMaxConcurrentMigrations(int max) {
        return new BalancerSettings(decisionWindow, max, shardCooldown, commandTimeout, minActiveShards, mergeHeadroom, issuer);
    }

    public BalancerSettings withShardCooldown(Duration cooldown) {
        return new BalancerSettings(decisionWindow, maxConcurrentMigrations, cooldown, commandTimeout, minActiveShards, mergeHeadroom, issuer);
    }

    public BalancerSettings withCommandTimeout(Duration timeout) {
        return new BalancerSettings(decisionWindow, maxConcurrentMigrations, shardCooldown, timeout, minActiveShards, mergeHeadroom, issuer);
    }

    public BalancerSettings withMinActiveShards(int min) {
        return new BalancerSettings(decisionWindow, maxConcurrentMigrations, shardCooldown, commandTimeout, min, mergeHeadroom, issuer);
    }

    public BalancerSettings withMergeHeadroom(double headroom) {
        return new BalancerSettings(decisionWindow, maxConcurrentMigrations, shardCooldown, commandTimeout, minActiveShards, headroom, issuer);
    }
}
