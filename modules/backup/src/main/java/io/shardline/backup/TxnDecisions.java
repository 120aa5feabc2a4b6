package io.shardline.backup;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.DeadLetterProducer;
import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.Topic;
import io.shardline.schemas.avro.TxnRecord;
import io.shardline.schemas.avro.TxnState;

/**
 * Reads the decisions of given transactions from the decisions topic (the decision record a router keeps there once a
 * transaction is resolved, as long as the CDC topics are kept). A transaction's record is written after its intents
 * were resolved, so one that held a document at a moment has its record written after that moment: the reader starts
 * at the first record written a minute before it (routers' and shards' clocks may differ by that) and reads to the
 * end. A record that cannot be read goes to the control plane's dead-letter topic; its transaction counts as not
 * found.
 */
final class TxnDecisions {

    private static final Logger LOG = LoggerFactory.getLogger(TxnDecisions.class);
    /** How far before the moment the reader starts: clock differences between the routers and the shards. */
    static final Duration CLOCK_MARGIN = Duration.ofMinutes(1);

    /** A transaction's decision: committed or aborted, and when it was taken (epoch milliseconds). */
    record Decided(TxnState state, long at) {
        /** Whether the transaction had committed at {@code moment}. */
        boolean committedBy(long moment) {
            return state == TxnState.COMMITTED && at <= moment;
        }
    }

    private TxnDecisions() {
    }

    /**
     * The decisions of {@code wanted} found on {@code topic}, written from {@link #CLOCK_MARGIN} before {@code moment};
     * the first record of a transaction counts (a router that recovers it may write it again, the same).
     */
    static Map<String, Decided> read(String bootstrapServers, Topic<String, TxnRecord> topic, DeadLetterProducer deadLetters, Set<String> wanted,
                                     long moment) {
        Map<String, Decided> found = new HashMap<>();
        if (wanted.isEmpty()) {
            return found;
        }
        Map<String, Object> settings = Map.of(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed", ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5_000);
        TopicPartition partition = new TopicPartition(topic.name(), 0);
        try (KafkaConsumer<byte[], byte[]> consumer = KafkaClients.fromEnvironment(bootstrapServers).bytesReader(null, settings)) {
            if (consumer.partitionsFor(topic.name(), Duration.ofSeconds(30)).isEmpty()) {
                throw new BackupException("the topic " + topic.name() + " does not exist (shardline init creates it)");
            }
            consumer.assign(List.of(partition));
            long from = Math.max(0, moment - CLOCK_MARGIN.toMillis());
            OffsetAndTimestamp start = consumer.offsetsForTimes(Map.of(partition, from)).get(partition);
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            if (start == null) {
                return found;
            }
            consumer.seek(partition, start.offset());
            while (consumer.position(partition) < end && found.size() < wanted.size()) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    String txnId = record.key() == null ? null : new String(record.key(), java.nio.charset.StandardCharsets.UTF_8);
                    if (txnId == null || !wanted.contains(txnId) || found.containsKey(txnId)) {
                        continue;
                    }
                    TxnRecord decision;
                    try {
                        decision = topic.valueSerde().deserializer().deserialize(record.topic(), record.value());
                        if (decision == null) {
                            throw new IllegalArgumentException("value: missing");
                        }
                    } catch (RuntimeException malformed) {
                        refuse(deadLetters, record, txnId, malformed, "value");
                        continue;
                    }
                    if (decision.getState() == TxnState.ACTIVE) {
                        refuse(deadLetters, record, txnId, new IllegalArgumentException("state: ACTIVE is no decision"), "state");
                        continue;
                    }
                    found.put(txnId, new Decided(decision.getState(), decision.getTimestamp().toEpochMilli()));
                }
            }
        }
        return found;
    }

    private static void refuse(DeadLetterProducer deadLetters, ConsumerRecord<byte[], byte[]> record, String txnId, RuntimeException why, String field) {
        LOG.warn("{}@{}: transaction {}: not a decision record ({}); sent to the dead-letter topic, the intents it holds are kept", record.topic(),
            record.offset(), txnId, why.getMessage());
        deadLetters.send(record, why, field);
    }
}
