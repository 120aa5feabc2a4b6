package io.shardline.topology.internal;

import java.util.function.ToLongFunction;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a global store of a versioned compacted topic (shard descriptors, namespace configs): a record replaces the
 * stored value only when its version is not older, so a descriptor written late by a stale writer does not undo a
 * newer one. A tombstone carries no version: it removes the key whatever was held, and a record after it is taken
 * as it comes (Shardline writes no tombstones on these topics; an operator's would mean the key is gone). Runs on
 * restore too, so a restarted controller applies the same rule.
 */
final class NewerVersionOnly<V> implements Processor<String, V, Void, Void> {

    private static final Logger LOG = LoggerFactory.getLogger(NewerVersionOnly.class);

    private final String storeName;
    private final ToLongFunction<V> version;
    private TimestampedKeyValueStore<String, V> store;

    NewerVersionOnly(String storeName, ToLongFunction<V> version) {
        this.storeName = storeName;
        this.version = version;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(storeName);
    }

    @Override
    public void process(Record<String, V> record) {
        if (record.key() == null) {
            return;
        }
        if (record.value() == null) {
            store.delete(record.key());
            return;
        }
        ValueAndTimestamp<V> current = store.get(record.key());
        if (current != null && version.applyAsLong(current.value()) > version.applyAsLong(record.value())) {
            LOG.warn("{}: version {} of {} arrived after version {}; the newer one stays", storeName, version.applyAsLong(record.value()),
                record.key(), version.applyAsLong(current.value()));
            return;
        }
        store.put(record.key(), ValueAndTimestamp.make(record.value(), record.timestamp()));
    }
}
