package io.shardline.worker.health;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import io.shardline.schemas.avro.ShardHealth;
import io.shardline.worker.config.HealthSettings;

/**
 * What the probes of one shard add up to: a shard not seen answering for {@link HealthSettings#downAfter()} is DOWN; a
 * DOWN shard seen answering without a miss for {@link HealthSettings#upAfter()} is UP again. Time is passed in, so the
 * rules are checked without waiting.
 */
final class HealthTracker {

    /** A change of a shard's health to publish: where to, since when, why, and the figure behind it. */
    record Transition(ShardHealth to, Instant since, String cause, Duration evidence) {
    }

    private final HealthSettings settings;
    private final String connectionString;
    private long lastSeenNanos;
    private Instant firstMissAt;
    private long answeringSinceNanos = -1;
    private Instant answeringSince;
    private String lastCause;

    /**
     * @param startedNanos     when watching began: a shard never reached gets one down-after period from then
     * @param connectionString the address the probes go to
     */
    HealthTracker(HealthSettings settings, long startedNanos, String connectionString) {
        this.settings = settings;
        this.lastSeenNanos = startedNanos;
        this.connectionString = connectionString;
    }

    /** True when the probes this tracker adds up went to {@code address}. */
    boolean watches(String address) {
        return connectionString.equals(address);
    }

    /**
     * One probe's outcome.
     *
     * @param failure   null when the shard answered, else why not
     * @param published the health the shard's descriptor says now
     * @return the change to publish, if the shard's health is no longer what is published
     */
    Optional<Transition> observe(String failure, ShardHealth published, long nowNanos, Instant now) {
        if (failure == null) {
            lastSeenNanos = nowNanos;
            firstMissAt = null;
            if (answeringSinceNanos < 0) {
                answeringSinceNanos = nowNanos;
                answeringSince = now;
            }
            Duration answering = Duration.ofNanos(nowNanos - answeringSinceNanos);
            if (published == ShardHealth.DOWN && answering.compareTo(settings.upAfter()) >= 0) {
                return Optional.of(new Transition(ShardHealth.UP, answeringSince, "answering every probe for " + answering.toMillis() + " ms", answering));
            }
            return Optional.empty();
        }
        answeringSinceNanos = -1;
        answeringSince = null;
        firstMissAt = firstMissAt == null ? now : firstMissAt;
        lastCause = failure;
        Duration unseen = Duration.ofNanos(nowNanos - lastSeenNanos);
        if (published != ShardHealth.DOWN && unseen.compareTo(settings.downAfter()) >= 0) {
            return Optional.of(new Transition(ShardHealth.DOWN, firstMissAt, "no answer for " + unseen.toMillis() + " ms: " + lastCause, unseen));
        }
        return Optional.empty();
    }
}
