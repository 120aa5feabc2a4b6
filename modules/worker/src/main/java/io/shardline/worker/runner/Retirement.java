package io.shardline.worker.runner;

import java.time.Instant;
import java.util.Map;

import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.worker.plane.ControlPlane;

/** The end of a drain: a DRAINING shard that owns no chunk and has no migration still running from it is RETIRED. */
public final class Retirement {

    private Retirement() {
    }

    /** Retires the shard when it is DRAINING, owns no chunk and no unfinished migration moves a range off it. */
    public static synchronized void retireIfEmpty(ControlPlane plane, String shardId) {
        ShardDescriptor shard = plane.shards().get(shardId);
        boolean ownsChunks = plane.routing().values().values().stream().anyMatch(r -> r.getShardId().equals(shardId));
        boolean stillMoving = plane.migrations().values().values().stream()
            .anyMatch(m -> m.getSourceShardId().equals(shardId) && !MigrationPhases.ended(m));
        if (shard != null && shard.getState() == ShardState.DRAINING && !ownsChunks && !stillMoving) {
            plane.publishShard(ShardDescriptor.newBuilder(shard).setState(ShardState.RETIRED).setVersion(shard.getVersion() + 1)
                .setUpdatedAt(Instant.now()).build());
            plane.event(ShardEventType.SHARD_STATE_CHANGED, shardId, null, null, null, null, shardId + " owns no chunk any more: RETIRED", Map.of());
        }
    }
}
