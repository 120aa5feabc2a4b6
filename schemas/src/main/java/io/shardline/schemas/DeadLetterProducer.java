package io.shardline.schemas;

import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a record its reader could not use to a dead-letter topic: the original key and value bytes with the
 * {@link DeadLetterHeaders} (what went wrong, the field at fault, where the record came from, who reported it). The
 * producer is created with the first dead letter, so a reader that never meets one holds no connection for it.
 */
public final class DeadLetterProducer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterProducer.class);

    /**
     * The records this process has dead-lettered (topic-partition@offset), so that readers that read a topic again
     * and again (a view refreshed on every request) report a record once per process, not once per read.
     */
    private static final java.util.Set<String> SENT = java.util.Collections.newSetFromMap(
        java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > 100_000;
            }
        }));

    private final String bootstrapServers;
    private final String topic;
    private final String reporter;
    private KafkaProducer<byte[], byte[]> producer;

    /**
     * @param topic    the dead-letter topic
     * @param reporter who reports (for example {@code router:<id>}), in the {@link DeadLetterHeaders#REPORTER} header
     */
    public DeadLetterProducer(String bootstrapServers, String topic, String reporter) {
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
        this.reporter = reporter;
    }

    /** @param field the field at fault, or {@code null} when not known */
    public synchronized void send(ConsumerRecord<byte[], byte[]> record, Throwable error, String field) {
        if (!SENT.add(topic + "|" + record.topic() + "-" + record.partition() + "@" + record.offset())) {
            return;
        }
        if (producer == null) {
            producer = KafkaClients.fromEnvironment(bootstrapServers).bytesProducer(Map.of());
        }
        producer.send(new ProducerRecord<>(topic, null, record.key(), record.value(),
            DeadLetterHeaders.of(record.headers(), error, record.topic(), record.partition(), record.offset(), field, reporter)),
            (metadata, failed) -> {
                if (failed != null) {
                    LOG.error("the dead letter of {}-{}@{} could not be written to {}: {}", record.topic(), record.partition(),
                        record.offset(), topic, failed.toString());
                }
            });
    }

    public String topic() {
        return topic;
    }

    @Override
    public synchronized void close() {
        if (producer != null) {
            producer.close();
        }
    }
}
