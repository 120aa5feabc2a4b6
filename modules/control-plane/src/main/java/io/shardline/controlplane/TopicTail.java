package io.shardline.controlplane;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.DeadLetterProducer;
import io.shardline.schemas.Topic;

/**
 * The records appended to a single-partition control-plane topic (read-committed), handed out in order by
 * {@link #poll(Duration)}: the log view of a topic, where {@link TopicTable} is the table view. A record that cannot be
 * read is skipped and sent to the dead-letter topic with its origin.
 */
public final class TopicTail<V> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TopicTail.class);

    /** One record: its key, value, offset and the time it was written. */
    public record Appended<V>(String key, V value, long offset, Instant timestamp) {
    }

    private final Topic<String, V> topic;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition partition;
    private final DeadLetterProducer deadLetters;

    /**
     * @param fromBeginning   {@code true} to hand out what the topic already holds, {@code false} for new records only
     * @param deadLetterTopic where records that cannot be read go
     * @param reporter        who reads the log, named in the dead letters' reporter header
     */
    public TopicTail(String bootstrapServers, Topic<String, V> topic, boolean fromBeginning, String deadLetterTopic, String reporter) {
        this.topic = topic;
        this.deadLetters = new DeadLetterProducer(bootstrapServers, deadLetterTopic, reporter);
        this.consumer = KafkaClients.fromEnvironment(bootstrapServers).bytesReader("tail-" + UUID.randomUUID(), Map.of());
        this.partition = new TopicPartition(topic.name(), 0);
        consumer.assign(List.of(partition));
        if (fromBeginning) {
            consumer.seekToBeginning(List.of(partition));
        } else {
            consumer.seekToEnd(List.of(partition));
            consumer.position(partition);
        }
    }

    /** What was appended since the last call, waiting at most {@code timeout} when nothing is new. */
    public synchronized List<Appended<V>> poll(Duration timeout) {
        List<Appended<V>> appended = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(timeout)) {
            if (record.value() == null) {
                continue;
            }
            try {
                String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
                appended.add(new Appended<>(key, topic.valueSerde().deserializer().deserialize(record.topic(), record.value()),
                    record.offset(), Instant.ofEpochMilli(record.timestamp())));
            } catch (RuntimeException unreadable) {
                LOG.warn("skipping unreadable record {}@{} (sent to {}): {}", topic.name(), record.offset(), deadLetters.topic(), unreadable.getMessage());
                deadLetters.send(record, unreadable, "value");
            }
        }
        return appended;
    }

    /** Everything up to the topic's end as it is now. */
    public synchronized List<Appended<V>> readToEnd() {
        long end = consumer.endOffsets(List.of(partition)).get(partition);
        List<Appended<V>> appended = new ArrayList<>();
        while (consumer.position(partition) < end) {
            appended.addAll(poll(Duration.ofMillis(100)));
        }
        return appended;
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
