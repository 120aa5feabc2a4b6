package io.shardline.core.routing;

import java.util.Objects;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.schemas.avro.ChunkState;

/**
 * One chunk: a half-open key range of a namespace owned by one shard, with the epoch and version the
 * routing table orders changes by.
 */
public record Chunk(String namespace, KeyRange range, String shardId, long epoch, long version,
                    ChunkState state, String migrationId) {

    public Chunk {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(range, "range");
        Objects.requireNonNull(shardId, "shardId");
        Objects.requireNonNull(state, "state");
        if (version < 0) {
            throw new IllegalArgumentException("chunk version must be >= 0, was " + version);
        }
    }

    /** The chunk a routing record describes. */
    public static Chunk of(io.shardline.schemas.avro.ChunkRoute route) {
        return new Chunk(route.getNamespace(), KeyRange.ofEncoded(route.getMin(), route.getMax()), route.getShardId(), route.getEpoch(),
            route.getVersion(), route.getState(), route.getMigrationId());
    }

    /** The routing record of this chunk (without the record-only split-by-load time). */
    public io.shardline.schemas.avro.ChunkRoute toRoute() {
        return io.shardline.schemas.avro.ChunkRoute.newBuilder().setNamespace(namespace).setMin(java.nio.ByteBuffer.wrap(min().toBytes()))
            .setMax(max() == null ? null : java.nio.ByteBuffer.wrap(max().toBytes())).setShardId(shardId).setEpoch(epoch).setVersion(version)
            .setState(state).setMigrationId(migrationId).setSplitByLoadAt(null).build();
    }

    public static Chunk active(String namespace, KeyRange range, String shardId, long epoch, long version) {
        return new Chunk(namespace, range, shardId, epoch, version, ChunkState.ACTIVE, null);
    }

    public ShardKey min() {
        return range.min();
    }

    /** Exclusive upper bound, {@code null} when unbounded. */
    public ShardKey max() {
        return range.max();
    }

    public Chunk withOwner(String newShardId, long newVersion, ChunkState newState, String newMigrationId) {
        return new Chunk(namespace, range, newShardId, epoch, newVersion, newState, newMigrationId);
    }
}
