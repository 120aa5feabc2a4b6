package io.shardline.backup;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import io.shardline.schemas.KafkaClients;

/**
 * Reads one CDC topic ({@code cdc.<shard>.<db>.<coll>}, one partition) from an offset, as {@link ChangeRecord}s. A
 * topic that does not exist reads as empty until it does (a collection gets its topic with its first captured
 * change; this reader never creates one). A position that retention has deleted is an error, never a jump.
 */
final class CdcReader implements AutoCloseable {

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition partition;
    private boolean assigned;
    private long wanted;

    CdcReader(String bootstrapServers, String topic) {
        Map<String, Object> settings = KafkaClients.fromEnvironment(bootstrapServers).common();
        settings.put(ConsumerConfig.GROUP_ID_CONFIG, "backup-" + UUID.randomUUID());
        settings.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        settings.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
        settings.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        settings.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        settings.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        this.consumer = new KafkaConsumer<>(settings, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.partition = new TopicPartition(topic, 0);
        try {
            assignIfThere();
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
    }

    /** Assigns the partition once the topic exists; true when assigned. */
    private boolean assignIfThere() {
        if (!assigned && consumer.partitionsFor(partition.topic(), Duration.ofSeconds(30)).stream().anyMatch(p -> p.partition() == 0)) {
            consumer.assign(List.of(partition));
            consumer.seek(partition, wanted);
            assigned = true;
        }
        return assigned;
    }

    String topic() {
        return partition.topic();
    }

    /** The offset the next record written will get (0 for a topic not there yet). */
    long endOffset() {
        return assignIfThere() ? consumer.endOffsets(List.of(partition)).get(partition) : 0;
    }

    /** The first offset the topic still holds (0 for a topic not there yet): retention deleted everything before it. */
    long earliestOffset() {
        return assignIfThere() ? consumer.beginningOffsets(List.of(partition)).get(partition) : 0;
    }

    void seek(long offset) {
        wanted = offset;
        if (assigned) {
            consumer.seek(partition, offset);
        }
    }

    /** The next offset to read. */
    long position() {
        return assigned ? consumer.position(partition) : wanted;
    }

    /** The records that arrive within {@code wait}, each parsed; a record that cannot be read throws, naming its offset. */
    List<ChangeRecord> poll(Duration wait) {
        if (!assignIfThere()) {
            sleep(wait);
            return List.of();
        }
        List<ChangeRecord> changes = new ArrayList<>();
        try {
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(wait)) {
                try {
                    changes.add(ChangeRecord.of(record));
                } catch (IllegalArgumentException malformed) {
                    throw new BackupException(partition.topic() + " offset " + record.offset() + ": " + malformed.getMessage()
                        + "; the change it carries cannot be applied, so no consistent image spans it", malformed);
                }
            }
        } catch (OffsetOutOfRangeException deleted) {
            throw new BackupException(partition.topic() + ": offset " + deleted.offsetOutOfRangePartitions().get(partition)
                + " is no longer held (retention deleted it while it was being read)", deleted);
        }
        return changes;
    }

    private static void sleep(Duration wait) {
        try {
            Thread.sleep(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackupException("interrupted while waiting for a CDC topic", e);
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
