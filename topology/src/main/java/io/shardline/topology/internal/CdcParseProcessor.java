package io.shardline.topology.internal;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/** Parses each CDC record and keeps its origin, so that a malformed one can go to the dead-letter topic. */
public final class CdcParseProcessor implements Processor<String, String, String, ParsedCdc> {

    private final CdcChangeParser parser;
    private ProcessorContext<String, ParsedCdc> context;

    public CdcParseProcessor(CdcChangeParser parser) {
        this.parser = parser;
    }

    @Override
    public void init(ProcessorContext<String, ParsedCdc> context) {
        this.context = context;
    }

    @Override
    public void process(Record<String, String> record) {
        RecordMetadata origin = context.recordMetadata().orElseThrow(
            () -> new IllegalStateException("CDC records always come from a topic"));
        CdcChange change = null;
        RuntimeException error = null;
        try {
            change = parser.parse(origin.topic(), record.key(), record.value());
        } catch (MalformedCdcRecordException e) {
            error = e;
        }
        context.forward(record.withValue(new ParsedCdc(change, error, record.key(), record.value(),
            origin.topic(), origin.partition(), origin.offset())));
    }
}
