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
 */
public record HealthSettings(Duration interval, Duration downAfter, Duration upAfter) {

    public static final HealthSettings DEFAULTS = new HealthSettings(Duration.ofMillis(500), Duration.ofMillis(1_500), Duration.ofSeconds(5));

    public HealthSettings {
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(downAfter, "downAfter");
        Objects.requireNonNull(upAfter, "upAfter");
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
    }
}
