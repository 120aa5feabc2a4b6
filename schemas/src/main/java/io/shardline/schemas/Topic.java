package io.shardline.schemas;

import java.util.Map;
import java.util.Objects;

import org.apache.kafka.common.serialization.Serde;

/**
 * A typed topic: its name, the serdes of its keys and values, and how the broker keeps it.
 *
 * @param cleanup   whether the broker compacts the topic (latest value per key) or deletes by age
 * @param retention  for {@link Cleanup#DELETE} topics, how long records are kept; ignored when compacted
 * @param partitions how many partitions the topic is created with
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde, Cleanup cleanup,
                          java.time.Duration retention, int partitions) {

    /** How the broker cleans a topic. */
    public enum Cleanup {
        /** Keep the latest value per key; a tombstone removes the key. */
        COMPACT,
        /** Drop records older than the retention. */
        DELETE
    }

    public Topic {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(keySerde, "keySerde");
        Objects.requireNonNull(valueSerde, "valueSerde");
        Objects.requireNonNull(cleanup, "cleanup");
        Objects.requireNonNull(retention, "retention");
        if (name.isBlank()) {
            throw new IllegalArgumentException("topic name must not be blank");
        }
        if (partitions < 1) {
            throw new IllegalArgumentException("topic " + name + " needs at least one partition, was " + partitions);
        }
    }

    /** A topic of one partition: every control-plane topic but the migration lanes. */
    public Topic(String name, Serde<K> keySerde, Serde<V> valueSerde, Cleanup cleanup, java.time.Duration retention) {
        this(name, keySerde, valueSerde, cleanup, retention, 1);
    }

    /** The broker-side topic configuration this topic is created with. */
    public Map<String, String> brokerConfig() {
        if (cleanup == Cleanup.COMPACT) {
            return Map.of("cleanup.policy", "compact");
        }
        return Map.of("cleanup.policy", "delete", "retention.ms", Long.toString(retention.toMillis()));
    }
}
