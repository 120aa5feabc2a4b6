package io.shardline.topology.internal;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Turns a record that could not be read into a dead letter: the original key and value bytes, and headers that
 * say what went wrong and where the record came from.
 */
public final class DeadLetterProcessor implements Processor<String, ParsedCdc, byte[], byte[]> {

    public static final String EXCEPTION_CLASS = "shardline.dlq.exception.class";
    public static final String EXCEPTION_MESSAGE = "shardline.dlq.exception.message";
    public static final String EXCEPTION_STACKTRACE = "shardline.dlq.exception.stacktrace";
    public static final String SOURCE_TOPIC = "shardline.dlq.source.topic";
    public static final String SOURCE_PARTITION = "shardline.dlq.source.partition";
    public static final String SOURCE_OFFSET = "shardline.dlq.source.offset";
    public static final String FIELD = "shardline.dlq.field";

    private ProcessorContext<byte[], byte[]> context;

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, ParsedCdc> record) {
        ParsedCdc parsed = record.value();
        Headers headers = new RecordHeaders(record.headers().toArray());
        RuntimeException error = parsed.error();
        headers.add(EXCEPTION_CLASS, utf8(error.getClass().getName()));
        headers.add(EXCEPTION_MESSAGE, utf8(String.valueOf(error.getMessage())));
        headers.add(EXCEPTION_STACKTRACE, utf8(stackTrace(error)));
        headers.add(SOURCE_TOPIC, utf8(parsed.sourceTopic()));
        headers.add(SOURCE_PARTITION, utf8(Integer.toString(parsed.sourcePartition())));
        headers.add(SOURCE_OFFSET, utf8(Long.toString(parsed.sourceOffset())));
        if (error instanceof MalformedCdcRecordException malformed) {
            headers.add(FIELD, utf8(malformed.field()));
        }
        context.forward(new Record<>(utf8OrNull(parsed.originalKey()), utf8OrNull(parsed.originalValue()),
            record.timestamp(), headers));
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] utf8OrNull(String text) {
        return text == null ? null : utf8(text);
    }

    private static String stackTrace(Throwable error) {
        StringWriter out = new StringWriter();
        error.printStackTrace(new PrintWriter(out));
        return out.toString();
    }
}
