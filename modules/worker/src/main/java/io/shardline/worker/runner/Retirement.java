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

    /** Retires every DRAINING shard that owns no chunk and has no unfinished migration off it: the commands' regular look. */
    public static void retireDrained(ControlPlane plane) {
        plane.shards().values().values().stream().filter(s -> s.getState() == ShardState.DRAINING).map(ShardDescriptor::getShardId).toList()
            .forEach(shardId -> retireIfEmpty(plane, shardId, null));
    }

    /**
     * Retires the shard when it is DRAINING, owns no chunk and no unfinished migration moves a range off it.
     *
     * @param ended a migration known to have ended (just now, by the caller), whatever the migrations table shows yet; or null
     */
    public static synchronized void retireIfEmpty(ControlPlane plane, String shardId, String ended) {
        ShardDescriptor shard = plane.shards().get(shardId);
        boolean ownsChunks = plane.routing().values().values().stream().anyMatch(r -> r.getShardId().equals(shardId));
        boolean stillMoving = plane.migrations().values().values().stream()
            .anyMatch(m -> m.getSourceShardId().equals(shardId) && !MigrationPhases.ended(m) && !m.getMigrationId().equals(ended));
        if (shard != null && shard.getState() == ShardState.DRAINING && !ownsChunks && !stillMoving) {
            plane.publishShard(ShardDescriptor.newBuilder(shard).setState(ShardState.RETIRED).setVersion(shard.getVersion() + 1)
                .setUpdatedAt(Instant.now()).build());
            plane.event(ShardEventType.SHARD_STATE_CHANGED, shardId, null, null, null, null, shardId + " owns no chunk any more: RETIRED", Map.of());
        }
    }
}
