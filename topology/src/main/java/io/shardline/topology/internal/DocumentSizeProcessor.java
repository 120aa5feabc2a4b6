package io.shardline.topology.internal;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

import io.shardline.topology.internal.avro.ShardSize;

/**
 * Keeps the last known BSON size of every document and turns each change into a size delta of its shard:
 * inserts add a document, updates adjust bytes by the difference, deletes subtract what was known. A change
 * delivered twice (Debezium delivers at least once) finds the document already counted and adds nothing.
 */
public final class DocumentSizeProcessor implements Processor<String, ParsedCdc, String, ShardSize> {

    private final String storeName;
    private ProcessorContext<String, ShardSize> context;
    private KeyValueStore<String, Integer> sizes;

    public DocumentSizeProcessor(String storeName) {
        this.storeName = storeName;
    }

    @Override
    public void init(ProcessorContext<String, ShardSize> context) {
        this.context = context;
        this.sizes = context.getStateStore(storeName);
    }

    @Override
    public void process(Record<String, ParsedCdc> record) {
        CdcChange change = record.value().change();
        Integer known = sizes.get(change.storeKey());
        long documents;
        long bytes;
        if (change.op() == CdcChange.Op.DELETE) {
            documents = known == null ? 0 : -1;
            bytes = known == null ? 0 : -known;
            sizes.delete(change.storeKey());
        } else {
            documents = known == null ? 1 : 0;
            bytes = change.postImageSize() - (known == null ? 0 : known);
            sizes.put(change.storeKey(), change.postImageSize());
        }
        long writes = change.op() == CdcChange.Op.READ ? 0 : 1;
        ShardSize delta = new ShardSize(change.shardId(), documents, bytes, writes, record.timestamp());
        context.forward(new Record<>(change.shardId(), delta, record.timestamp(), record.headers()));
    }
}
