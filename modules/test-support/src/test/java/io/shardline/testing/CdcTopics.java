package io.shardline.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.bson.BsonDocument;
import org.bson.BsonValue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Reads Debezium's CDC topics as a stock consumer would, and decodes the envelope. */
final class CdcTopics {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One decoded change: document id, Debezium op code, post-image (null for deletes), source timestamp. */
    record Change(String topic, BsonValue id, String op, BsonDocument after, long offset) {
    }

    private CdcTopics() {
    }

    /** Reads a topic from the beginning until {@code done} holds for what was read, or the timeout passes. */
    static List<Change> readUntil(String bootstrap, String topic, Predicate<List<Change>> done, Duration timeout) {
        Map<String, Object> config = Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ConsumerConfig.GROUP_ID_CONFIG, "cdc-reader-" + UUID.randomUUID(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        List<Change> changes = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!done.test(changes) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.value() != null) {
                        changes.add(decode(record));
                    }
                }
            }
        }
        return changes;
    }

    static Change decode(ConsumerRecord<String, String> record) {
        try {
            JsonNode key = JSON.readTree(record.key());
            JsonNode value = JSON.readTree(record.value());
            BsonValue id = BsonDocument.parse("{\"v\": " + key.path("id").asText() + "}").get("v");
            JsonNode after = value.path("after");
            BsonDocument post = after.isNull() || after.isMissingNode() ? null : BsonDocument.parse(after.asText());
            return new Change(record.topic(), id, value.path("op").asText(), post, record.offset());
        } catch (Exception e) {
            throw new IllegalStateException("not a Debezium MongoDB record: " + record, e);
        }
    }
}
