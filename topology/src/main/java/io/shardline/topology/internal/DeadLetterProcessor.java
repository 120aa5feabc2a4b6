package io.shardline.topology.internal;

import java.nio.charset.StandardCharsets;

import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

import io.shardline.schemas.DeadLetterHeaders;

/**
 * Turns a record that could not be read into a dead letter: the original key and value bytes, and the
 * {@link DeadLetterHeaders} that say what went wrong and where the record came from.
 */
public final class DeadLetterProcessor implements Processor<String, ParsedCdc, byte[], byte[]> {

    private ProcessorContext<byte[], byte[]> context;

    @Override
    public void init(ProcessorContext<byte[], byte[]> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, ParsedCdc> record) {
        ParsedCdc parsed = record.value();
        RuntimeException error = parsed.error();
        String field = error instanceof MalformedCdcRecordException malformed ? malformed.field() : null;
        Headers headers = DeadLetterHeaders.of(record.headers(), error, parsed.sourceTopic(), parsed.sourcePartition(),
            parsed.sourceOffset(), field, "controller");
        context.forward(new Record<>(utf8OrNull(parsed.originalKey()), utf8OrNull(parsed.originalValue()),
            record.timestamp(), headers));
    }

    private static byte[] utf8OrNull(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }
}
