package io.shardline.worker.plane;

import java.time.Duration;

/** Exponential back-off: the pause after the n-th failure in a row is the first pause doubled n - 1 times, at most a bound. */
public final class Backoff {

    private Backoff() {
    }

    public static Duration exponential(Duration first, Duration max, int failures) {
        long millis = first.toMillis() << Math.min(20, Math.max(0, failures - 1));
        return Duration.ofMillis(Math.min(millis, max.toMillis()));
    }
}
