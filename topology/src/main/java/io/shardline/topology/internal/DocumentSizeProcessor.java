package io.shardline.topology.internal;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

import io.shardline.schemas.TopicCatalog;
import io.shardline.topology.internal.avro.DocumentSize;
import io.shardline.topology.internal.avro.ShardSize;

/**
 * Keeps the last known BSON size of every document, and the chunk it was counted in, and turns each change into
 * size deltas of its shard and of its chunk: inserts add a document, updates adjust bytes by the difference,
 * deletes subtract what was known. A change delivered twice (Debezium delivers at least once) finds the document
 * already counted and adds nothing. Shard deltas are keyed by shard id (namespace null), chunk deltas by
 * {@code <ns>|<min hex>}.
 */
public final class DocumentSizeProcessor implements Processor<String, ParsedCdc, String, ShardSize> {

    private final String storeName;
    private final String routesStore;
    private final String configsStore;
    private ProcessorContext<String, ShardSize> context;
    private KeyValueStore<String, DocumentSize> sizes;
    private ChunkLocator locator;

    public DocumentSizeProcessor(String storeName, String routesStore, String configsStore) {
        this.storeName = storeName;
        this.routesStore = routesStore;
        this.configsStore = configsStore;
    }

    @Override
    public void init(ProcessorContext<String, ShardSize> context) {
        this.context = context;
        this.sizes = context.getStateStore(storeName);
        this.locator = ChunkLocator.of(context, routesStore, configsStore);
    }

    @Override
    public void process(Record<String, ParsedCdc> record) {
        CdcChange change = record.value().change();
        DocumentSize known = sizes.get(change.storeKey());
        long documents;
        long bytes;
        String chunk;
        long chunkDocuments;
        long chunkBytes;
        if (change.op() == CdcChange.Op.DELETE) {
            documents = known == null ? 0 : -1;
            bytes = known == null ? 0 : -known.getSize();
            chunk = known == null ? null : known.getChunkMinHex();
            chunkDocuments = documents;
            chunkBytes = bytes;
            sizes.delete(change.storeKey());
        } else {
            chunk = locator.chunkMinHex(change);
            documents = known == null ? 1 : 0;
            bytes = change.postImageSize() - (known == null ? 0 : known.getSize());
            chunkDocuments = documents;
            chunkBytes = bytes;
            if (known != null && known.getChunkMinHex() != null && !known.getChunkMinHex().equals(chunk)) {
                // Counted in another chunk before (the routing changed since): move it out of there, into this one.
                forwardChunk(record, change, known.getChunkMinHex(), -1, -known.getSize(), 0);
                chunkDocuments = 1;
                chunkBytes = change.postImageSize();
            }
            sizes.put(change.storeKey(), new DocumentSize(change.postImageSize(), chunk));
        }
        long writes = change.op() == CdcChange.Op.READ ? 0 : 1;
        context.forward(new Record<>(change.shardId(),
            new ShardSize(change.shardId(), null, null, documents, bytes, writes, false, record.timestamp()), record.timestamp()));
        if (chunk != null) {
            forwardChunk(record, change, chunk, chunkDocuments, chunkBytes, writes);
        }
    }

    private void forwardChunk(Record<String, ParsedCdc> record, CdcChange change, String chunkMinHex, long documents, long bytes, long writes) {
        ShardSize delta = new ShardSize(change.shardId(), change.namespace(), chunkMinHex, documents, bytes, writes, false, record.timestamp());
        context.forward(new Record<>(TopicCatalog.routingKey(change.namespace(), chunkMinHex), delta, record.timestamp()));
    }
}
