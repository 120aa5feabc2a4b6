package io.shardline.bench;

import java.util.Arrays;

/** Latency samples in nanoseconds, with percentiles. */
final class Latencies {

    private final long[] samples;
    private int size;

    Latencies(int capacity) {
        samples = new long[capacity];
    }

    void add(long nanos) {
        samples[size++] = nanos;
    }

    /** Mean in microseconds. */
    double meanMicros() {
        return Arrays.stream(samples, 0, size).average().orElse(0) / 1_000.0;
    }

    /** Percentile in microseconds, {@code p} in [0, 100]. */
    double percentileMicros(double p) {
        long[] sorted = Arrays.copyOf(samples, size);
        Arrays.sort(sorted);
        int index = (int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100.0 * sorted.length) - 1));
        return sorted[index] / 1_000.0;
    }
}
