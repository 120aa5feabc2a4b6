package io.shardline.topology.balancer;

import org.apache.kafka.streams.processor.api.ProcessingContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkStats;
import io.shardline.schemas.avro.KeySample;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.topology.internal.avro.BalancerShardState;
import io.shardline.topology.internal.avro.ChunkNote;
import io.shardline.topology.stores.StoreNames;

/** The balancer's own stores and the global tables it reads, as a processor of the controller application sees them. */
final class BalancerStores {

    final KeyValueStore<String, ShardStats> shardSizes;
    final KeyValueStore<String, ChunkStats> chunkSizes;
    final KeyValueStore<String, BalancerShardState> shardStates;
    final KeyValueStore<String, ChunkNote> chunkNotes;
    final KeyValueStore<String, MigrationState> migrations;
    final KeyValueStore<String, Long> clock;
    final ReadOnlyKeyValueStore<String, ValueAndTimestamp<ShardDescriptor>> descriptors;
    final ReadOnlyKeyValueStore<String, ValueAndTimestamp<NamespaceConfig>> configs;
    final ReadOnlyKeyValueStore<String, ValueAndTimestamp<ChunkRoute>> routes;
    final ReadOnlyKeyValueStore<String, ValueAndTimestamp<KeySample>> samples;

    BalancerStores(ProcessingContext context) {
        shardSizes = context.getStateStore(StoreNames.BALANCER_SHARD_SIZES);
        chunkSizes = context.getStateStore(StoreNames.BALANCER_CHUNK_SIZES);
        shardStates = context.getStateStore(StoreNames.BALANCER_SHARD_STATE);
        chunkNotes = context.getStateStore(StoreNames.BALANCER_CHUNK_NOTES);
        migrations = context.getStateStore(StoreNames.BALANCER_MIGRATIONS);
        clock = context.getStateStore(StoreNames.BALANCER_CLOCK);
        descriptors = context.getStateStore(StoreNames.SHARDS);
        configs = context.getStateStore(StoreNames.CONFIGS);
        routes = context.getStateStore(StoreNames.ROUTES);
        samples = context.getStateStore(StoreNames.KEY_SAMPLES);
    }

    /** The stored state of a shard, or a fresh one. */
    BalancerShardState stateOf(String shardId) {
        BalancerShardState state = shardStates.get(shardId);
        return state == null ? BalancerShardState.newBuilder().build() : state;
    }

    /** The stored note of a chunk (by routing key), or a fresh one. */
    ChunkNote noteOf(String key) {
        ChunkNote note = chunkNotes.get(key);
        return note == null ? ChunkNote.newBuilder().build() : note;
    }
}
