package io.shardline.schemas;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The headers every dead letter of Shardline carries, whichever dead-letter topic it lands on: what went wrong
 * (exception class, message, stack trace, and the field at fault when known), where the record came from (source
 * topic, partition, offset), and who reported it.
 */
public final class DeadLetterHeaders {

    public static final String EXCEPTION_CLASS = "shardline.dlq.exception.class";
    public static final String EXCEPTION_MESSAGE = "shardline.dlq.exception.message";
    public static final String EXCEPTION_STACKTRACE = "shardline.dlq.exception.stacktrace";
    public static final String SOURCE_TOPIC = "shardline.dlq.source.topic";
    public static final String SOURCE_PARTITION = "shardline.dlq.source.partition";
    public static final String SOURCE_OFFSET = "shardline.dlq.source.offset";
    public static final String FIELD = "shardline.dlq.field";
    public static final String REPORTER = "shardline.dlq.reporter";

    private DeadLetterHeaders() {
    }

    /**
     * The original record's headers plus the dead-letter headers.
     *
     * @param field    the field at fault, or {@code null} when not known
     * @param reporter who sends the dead letter (for example {@code router:<id>}), or {@code null}
     */
    public static Headers of(Iterable<Header> original, Throwable error, String sourceTopic, int sourcePartition,
                             long sourceOffset, String field, String reporter) {
        Headers headers = new RecordHeaders();
        original.forEach(headers::add);
        headers.add(EXCEPTION_CLASS, utf8(error.getClass().getName()));
        headers.add(EXCEPTION_MESSAGE, utf8(String.valueOf(error.getMessage())));
        StringWriter trace = new StringWriter();
        error.printStackTrace(new PrintWriter(trace));
        headers.add(EXCEPTION_STACKTRACE, utf8(trace.toString()));
        headers.add(SOURCE_TOPIC, utf8(sourceTopic));
        headers.add(SOURCE_PARTITION, utf8(Integer.toString(sourcePartition)));
        headers.add(SOURCE_OFFSET, utf8(Long.toString(sourceOffset)));
        if (field != null) {
            headers.add(FIELD, utf8(field));
        }
        if (reporter != null) {
            headers.add(REPORTER, utf8(reporter));
        }
        return headers;
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
