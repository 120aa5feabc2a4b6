package io.shardline.controlplane;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.ToLongFunction;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.DeadLetterProducer;
import io.shardline.schemas.Topic;

/**
 * The latest value per key of a compacted single-partition control-plane topic, read to its end on demand
 * (read-committed), with the offset each value was written at. A record that cannot be read is skipped and sent to
 * the dead-letter topic with its origin. For a topic whose values carry a version ({@link #keepingNewest}), a record
 * older than the one held does not replace it.
 */
public final class TopicTable<V> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TopicTable.class);

    /** A value and the offset it was written at. */
    public record Entry<V>(V value, long offset) {
    }

    private final Topic<String, V> topic;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition partition;
    private final Map<String, Entry<V>> values = new HashMap<>();
    private final DeadLetterProducer deadLetters;
    private ToLongFunction<V> version;
    private long unreadable;

    /**
     * @param deadLetterTopic where records that cannot be read go
     * @param reporter        who reads the table, named in the dead letters' reporter header
     */
    public TopicTable(String bootstrapServers, Topic<String, V> topic, String deadLetterTopic, String reporter) {
        this.topic = topic;
        this.deadLetters = new DeadLetterProducer(bootstrapServers, deadLetterTopic, reporter);
        this.consumer = KafkaClients.fromEnvironment(bootstrapServers).bytesReader("table-" + UUID.randomUUID(), Map.of());
        this.partition = new TopicPartition(topic.name(), 0);
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
    }

    /** From now on a record whose version is older than the one held for its key is ignored. */
    public synchronized TopicTable<V> keepingNewest(ToLongFunction<V> version) {
        this.version = version;
        return this;
    }

    /**
     * Reads until the table holds what was written at {@code offset} (a record this process's transaction wrote):
     * a transaction's commit returns before its markers make the records readable, so a read right after it can
     * still miss them.
     *
     * @throws IllegalStateException when the record is not readable within {@code within}
     */
    public synchronized TopicTable<V> refreshPast(long offset, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (refresh().consumer.position(partition) <= offset) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(topic.name() + ": offset " + offset + " is not readable after " + within.toMillis()
                    + " ms (the table is at " + consumer.position(partition) + ")");
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while reading " + topic.name() + " up to offset " + offset, e);
            }
        }
        return this;
    }

    /** The topic this table reads. */
    public String topicName() {
        return topic.name();
    }

    /** Reads what was written up to now. */
    public synchronized TopicTable<V> refresh() {
        long end = consumer.endOffsets(List.of(partition)).get(partition);
        while (consumer.position(partition) < end) {
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                String key = record.key() == null ? null : new String(record.key(), java.nio.charset.StandardCharsets.UTF_8);
                if (key == null) {
                    continue;
                }
                if (record.value() == null) {
                    values.remove(key);
                    continue;
                }
                V value;
                try {
                    value = topic.valueSerde().deserializer().deserialize(record.topic(), record.value());
                } catch (RuntimeException error) {
                    unreadable++;
                    LOG.warn("skipping unreadable record {}@{} (sent to {}): {}", topic.name(), record.offset(), deadLetters.topic(), error.getMessage());
                    deadLetters.send(record, error, "value");
                    continue;
                }
                Entry<V> held = values.get(key);
                if (version != null && held != null && version.applyAsLong(held.value()) > version.applyAsLong(value)) {
                    LOG.warn("{}: version {} of {} (offset {}) is older than the one held ({}); it is ignored", topic.name(),
                        version.applyAsLong(value), key, record.offset(), version.applyAsLong(held.value()));
                    continue;
                }
                values.put(key, new Entry<>(value, record.offset()));
            }
        }
        return this;
    }

    public synchronized V get(String key) {
        Entry<V> entry = values.get(key);
        return entry == null ? null : entry.value();
    }

    /** The latest value of a key with the offset it was written at, or null. */
    public synchronized Entry<V> entry(String key) {
        return values.get(key);
    }

    public synchronized Map<String, V> values() {
        Map<String, V> copy = new HashMap<>();
        values.forEach((key, entry) -> copy.put(key, entry.value()));
        return copy;
    }

    /** How many records could not be read (and went to the dead-letter topic). */
    public synchronized long unreadable() {
        return unreadable;
    }

    @Override
    public synchronized void close() {
        try {
            consumer.close();
        } finally {
            deadLetters.close();
        }
    }
}
