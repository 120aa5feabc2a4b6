package io.shardline.controller;

import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.DeadLetterHeaders;
import io.shardline.schemas.DeadLetterProducer;

/**
 * What the controller does with a record of a control-plane topic it cannot read: skips it and sends it to the control
 * dead-letter topic with the same {@link DeadLetterHeaders} as every other Shardline reader (exception, origin, the
 * controller as reporter), so that one consumer of the DLQs reads them all alike. Processing goes on.
 *
 * <p>A record of a stream task's topic goes back to Kafka Streams, which writes it in the task's exactly-once
 * transaction. A record of a global store's topic (shards, configs, routing, key samples) cannot: the global thread
 * has no record collector (Kafka Streams fails on dead letters returned there), so the handler sends it itself, with a
 * producer made on the first such record that lives as long as the controller.
 */
public final class DeadLetterHandler implements DeserializationExceptionHandler {

    /** The dead-letter topic (required). */
    public static final String TOPIC_CONFIG = "shardline.dead.letter.topic";
    /** Who reports, for the reporter header (required). */
    public static final String REPORTER_CONFIG = "shardline.dead.letter.reporter";

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterHandler.class);

    private String topic;
    private String reporter;
    private DeadLetterProducer globalLetters;

    @Override
    public void configure(Map<String, ?> configs) {
        topic = (String) Objects.requireNonNull(configs.get(TOPIC_CONFIG), TOPIC_CONFIG + " is not set");
        reporter = (String) Objects.requireNonNull(configs.get(REPORTER_CONFIG), REPORTER_CONFIG + " is not set");
        String bootstrap = String.valueOf(Objects.requireNonNull(configs.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG),
            StreamsConfig.BOOTSTRAP_SERVERS_CONFIG + " is not set"));
        globalLetters = new DeadLetterProducer(bootstrap, topic, reporter);
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        LOG.warn("skipping unreadable record {}-{}@{} (sent to {}): {}", record.topic(), record.partition(), record.offset(), topic,
            exception.toString());
        if (context.taskId() != null && context.taskId().subtopology() < 0) {
            globalLetters.send(record, exception, null);
            return Response.resume();
        }
        return Response.resume(List.of(new ProducerRecord<>(topic, null, record.key(), record.value(),
            DeadLetterHeaders.of(record.headers(), exception, record.topic(), record.partition(), record.offset(), null, reporter))));
    }
}
