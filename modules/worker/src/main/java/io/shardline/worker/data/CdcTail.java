package io.shardline.worker.data;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.bson.BsonValue;

import io.shardline.backup.ChangeRecord;

import io.shardline.schemas.KafkaClients;

/**
 * Follows one CDC topic ({@code cdc.<shard>.<db>.<coll>}) from an offset and tells which documents changed. Only
 * the key matters: a replay reads each changed document from the shard it replays from, so what is applied is always
 * that shard's current, type-exact document (or its absence), whatever order or how often the events arrive.
 */
public final class CdcTail implements ChangeSource, AutoCloseable {

    /** A change read, or a record that could not be read (its {@code error} set, {@code id} null). */
    public record Change(long offset, BsonValue id, long timestamp, ConsumerRecord<byte[], byte[]> record, RuntimeException error) {
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition partition;

    public CdcTail(String bootstrapServers, String topic, long fromOffset) {
        Map<String, Object> settings = KafkaClients.fromEnvironment(bootstrapServers).common();
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, "replay-" + UUID.randomUUID());
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        settings.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2_000);
        this.consumer = new KafkaConsumer<>(settings, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.partition = new TopicPartition(topic, 0);
        consumer.assign(List.of(partition));
        consumer.seek(partition, fromOffset);
    }

    @Override
    public List<Change> poll(Duration timeout) {
        List<Change> changes = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(timeout)) {
            try {
                changes.add(new Change(record.offset(), documentId(record.key()), record.timestamp(), record, null));
            } catch (RuntimeException malformed) {
                changes.add(new Change(record.offset(), null, record.timestamp(), record, malformed));
            }
        }
        return changes;
    }

    /** The next offset to read. */
    public long position() {
        return consumer.position(partition);
    }

    @Override
    public boolean behind() {
        return lag() > 0;
    }

    /** Events written but not read yet. */
    public long lag() {
        return Math.max(0, consumer.endOffsets(List.of(partition)).get(partition) - position());
    }

    /** The {@code _id} a Debezium MongoDB key carries as extended JSON in its {@code id} field. */
    static BsonValue documentId(byte[] key) {
        return ChangeRecord.documentId(key);
    }

    @Override
    public void close() {
        consumer.close();
    }
}
