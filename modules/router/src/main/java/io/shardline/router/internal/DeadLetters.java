package io.shardline.router.internal;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends a control-plane record the router could not use to the control dead-letter topic: the original key and
 * value bytes, and headers naming the exception, its message and stack, the source topic, partition and offset,
 * and the router.
 */
public final class DeadLetters implements AutoCloseable {

    public static final String EXCEPTION_CLASS = "shardline.dlq.exception.class";
    public static final String EXCEPTION_MESSAGE = "shardline.dlq.exception.message";
    public static final String EXCEPTION_STACKTRACE = "shardline.dlq.exception.stacktrace";
    public static final String SOURCE_TOPIC = "shardline.dlq.source.topic";
    public static final String SOURCE_PARTITION = "shardline.dlq.source.partition";
    public static final String SOURCE_OFFSET = "shardline.dlq.source.offset";
    public static final String REPORTER = "shardline.dlq.reporter";

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
        Headers headers = new RecordHeaders(record.headers().toArray());
        headers.add(EXCEPTION_CLASS, utf8(error.getClass().getName()));
        headers.add(EXCEPTION_MESSAGE, utf8(String.valueOf(error.getMessage())));
        StringWriter trace = new StringWriter();
        error.printStackTrace(new PrintWriter(trace));
        headers.add(EXCEPTION_STACKTRACE, utf8(trace.toString()));
        headers.add(SOURCE_TOPIC, utf8(record.topic()));
        headers.add(SOURCE_PARTITION, utf8(Integer.toString(record.partition())));
        headers.add(SOURCE_OFFSET, utf8(Long.toString(record.offset())));
        headers.add(REPORTER, utf8(reporter));
        producer.send(new ProducerRecord<>(topic, null, record.key(), record.value(), headers));
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        producer.close();
    }
}
