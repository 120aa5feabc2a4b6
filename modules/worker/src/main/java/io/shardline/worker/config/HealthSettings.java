package io.shardline.worker.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How the worker holding the commands watches the shards.
 *
 * @param interval  how often every registered shard is probed ({@code hello} and a one-document read); a probe that has
 *                  not answered within the interval failed
 * @param downAfter a shard with no successful probe for this long is marked DOWN
 * @param upAfter   a DOWN shard whose probes succeed for this long is marked UP again
 * @param catchUpWithin how long a failover waits for the standby of a DOWN shard to apply every change the shard's CDC
 *                  topics hold before it gives the attempt up (and tries again later)
 */
public record HealthSettings(Duration interval, Duration downAfter, Duration upAfter, Duration catchUpWithin) {

    public static final HealthSettings DEFAULTS = new HealthSettings(Duration.ofMillis(500), Duration.ofMillis(1_500), Duration.ofSeconds(5),
        Duration.ofSeconds(2));

    /** The defaults' catch-up wait with these probe settings. */
    public HealthSettings(Duration interval, Duration downAfter, Duration upAfter) {
        this(interval, downAfter, upAfter, DEFAULTS.catchUpWithin());
    }

    public HealthSettings {
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(downAfter, "downAfter");
        Objects.requireNonNull(upAfter, "upAfter");
        Objects.requireNonNull(catchUpWithin, "catchUpWithin");
        if (interval.toMillis() < 10) {
            throw new IllegalArgumentException("health interval must be at least 10 ms, was " + interval.toMillis() + " ms");
        }
        if (downAfter.compareTo(interval) < 0) {
            throw new IllegalArgumentException("down-after (" + downAfter.toMillis() + " ms) must be at least the health interval ("
                + interval.toMillis() + " ms): one probe has to fail first");
        }
        if (upAfter.isNegative()) {
            throw new IllegalArgumentException("up-after must not be negative, was " + upAfter);
        }
        if (catchUpWithin.isNegative()) {
            throw new IllegalArgumentException("failover catch-up must not be negative, was " + catchUpWithin);
        }
    }
}
