package io.shardline.router.internal;

import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.shardline.schemas.DeadLetterHeaders;

/**
 * Sends a control-plane record the router could not use to the control dead-letter topic: the original key and
 * value bytes with the {@link DeadLetterHeaders}, the router named as reporter.
 */
public final class DeadLetters implements AutoCloseable {

    private final String topic;
    private final String reporter;
    private final KafkaProducer<byte[], byte[]> producer;

    public DeadLetters(String bootstrapServers, String topic, String reporter) {
        this.topic = topic;
        this.reporter = reporter;
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        this.producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    }

    public void send(ConsumerRecord<byte[], byte[]> record, Exception error) {
        producer.send(new ProducerRecord<>(topic, null, record.key(), record.value(),
            DeadLetterHeaders.of(record.headers(), error, record.topic(), record.partition(), record.offset(), null, reporter)));
    }

    @Override
    public void close() {
        producer.close();
    }
}
