package io.shardline.controller;

import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.DeadLetterHeaders;

/**
 * What the controller does with a record of a control-plane topic it cannot read: skips it and sends it to the control
 * dead-letter topic with the same {@link DeadLetterHeaders} as every other Shardline reader (exception, origin, the
 * controller as reporter), so that one consumer of the DLQs reads them all alike. Processing goes on.
 */
public final class DeadLetterHandler implements DeserializationExceptionHandler {

    /** The dead-letter topic (required). */
    public static final String TOPIC_CONFIG = "shardline.dead.letter.topic";
    /** Who reports, for the reporter header (required). */
    public static final String REPORTER_CONFIG = "shardline.dead.letter.reporter";

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterHandler.class);

    private String topic;
    private String reporter;

    @Override
    public void configure(Map<String, ?> configs) {
        topic = (String) Objects.requireNonNull(configs.get(TOPIC_CONFIG), TOPIC_CONFIG + " is not set");
        reporter = (String) Objects.requireNonNull(configs.get(REPORTER_CONFIG), REPORTER_CONFIG + " is not set");
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        LOG.warn("skipping unreadable record {}-{}@{} (sent to {}): {}", record.topic(), record.partition(), record.offset(), topic,
            exception.toString());
        return Response.resume(List.of(new ProducerRecord<>(topic, null, record.key(), record.value(),
            DeadLetterHeaders.of(record.headers(), exception, record.topic(), record.partition(), record.offset(), null, reporter))));
    }
}
