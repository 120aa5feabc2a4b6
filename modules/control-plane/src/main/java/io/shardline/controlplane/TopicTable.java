package io.shardline.controlplane;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.Topic;

/**
 * The latest value per key of a compacted single-partition control-plane topic, read to its end on demand
 * (read-committed), with the offset each value was written at. A record that cannot be read is logged and skipped.
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

    public TopicTable(String bootstrapServers, Topic<String, V> topic) {
        this.topic = topic;
        this.consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.GROUP_ID_CONFIG, "table-" + UUID.randomUUID(),
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
            // A read to the end must not wait out the broker's default fetch wait (500 ms) on a partition whose last
            // batch is a transaction marker.
            ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20), new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.partition = new TopicPartition(topic.name(), 0);
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
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
                try {
                    values.put(key, new Entry<>(topic.valueSerde().deserializer().deserialize(record.topic(), record.value()), record.offset()));
                } catch (RuntimeException unreadable) {
                    LOG.warn("skipping unreadable record {}@{}: {}", topic.name(), record.offset(), unreadable.getMessage());
                }
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

    @Override
    public synchronized void close() {
        consumer.close();
    }
}
