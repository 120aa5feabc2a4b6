package io.shardline.topology.internal;

import java.util.function.BiFunction;

import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

import io.shardline.schemas.avro.ShardDescriptor;

/** Relates a value keyed by shard id to that shard's descriptor from the global shards store ({@code null} if unknown). */
public final class CapacityLookup<V, R> implements FixedKeyProcessor<String, V, R> {

    private final String shardsStore;
    private final BiFunction<V, ShardDescriptor, R> join;
    private FixedKeyProcessorContext<String, R> context;
    private ReadOnlyKeyValueStore<String, ValueAndTimestamp<ShardDescriptor>> shards;

    public CapacityLookup(String shardsStore, BiFunction<V, ShardDescriptor, R> join) {
        this.shardsStore = shardsStore;
        this.join = join;
    }

    @Override
    public void init(FixedKeyProcessorContext<String, R> context) {
        this.context = context;
        this.shards = context.getStateStore(shardsStore);
    }

    @Override
    public void process(FixedKeyRecord<String, V> record) {
        ValueAndTimestamp<ShardDescriptor> shard = shards.get(record.key());
        context.forward(record.withValue(join.apply(record.value(), shard == null ? null : shard.value())));
    }
}
