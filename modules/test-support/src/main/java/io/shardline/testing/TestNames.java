package io.shardline.testing;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Names that no other test in the JVM uses: topics, application ids, databases. Tests share one broker and one
 * set of shards, so each builds its names from here.
 */
public final class TestNames {

    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private final String base;

    TestNames(String testName) {
        String cleaned = testName.replaceAll("[^A-Za-z0-9]", "").toLowerCase(Locale.ROOT);
        this.base = "t" + SEQUENCE.incrementAndGet() + "_" + cleaned.substring(0, Math.min(24, cleaned.length()));
    }

    /** A MongoDB database name (at most 38 characters). */
    public String database() {
        return base;
    }

    /** A topic name derived from {@code suffix}. */
    public String topic(String suffix) {
        return base + "." + suffix;
    }

    /** A Kafka Streams application id or consumer group id. */
    public String applicationId(String suffix) {
        return base + "-" + suffix;
    }

    /** A prefix for a whole control-plane topic catalog. */
    public String topicPrefix() {
        return base + ".";
    }
}
