package io.shardline.worker.migration;

import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.worker.data.RangeOps;
import io.shardline.core.key.KeyHex;
import io.shardline.worker.plane.RangeDeletions;

/**
 * PLANNED: waits while the target still has a deletion of the range to run, aborts without touching a shard when the
 * routing moved on since the plan (another migration took the chunk, or it was split), else records the source's
 * deletion task, takes the source's CDC watermark, marks the chunk MIGRATING and counts the range -> COPYING.
 */
final class PlanStep {

    private static final Logger LOG = LoggerFactory.getLogger(PlanStep.class);

    private final MigrationContext migration;

    PlanStep(MigrationContext migration) {
        this.migration = migration;
    }

    void run() throws InterruptedException {
        MigrationState state = migration.state;
        ChunkRoute route = migration.route();
        String min = KeyHex.of(state.getChunkMin());
        String max = KeyHex.of(state.getChunkMax());
        Map<String, MigrationState> migrations = migration.plane.migrations().values();
        // A task of a migration that has ended is a leftover: every ending removes its tasks before it is published.
        List<RangeDeletions.Task> pending = migration.plane.shardConnections().deletions(state.getTargetShardId())
            .overlapping(state.getNamespace(), min, max, state.getMigrationId()).stream()
            .filter(task -> migrations.get(task.migrationId()) == null || !MigrationPhases.ended(migrations.get(task.migrationId()))).toList();
        if (!pending.isEmpty()) {
            // A copy must not land where a deletion of the range is still to run: it would delete the copy.
            String waiting = state.getTargetShardId() + " still has a deletion of " + pending.get(0).describe() + " to run";
            if (!waiting.equals(state.getError())) {
                state.setError(waiting);
                LOG.info("migration {} waits: {}", state.getMigrationId(), waiting);
                migration.plane.publishMigration(state);
            }
            Thread.sleep(500);
            return;
        }
        state.setError(null);
        boolean sameBounds = Objects.equals(KeyHex.of(route.getMax()), max);
        if (!sameBounds || !migration.mine(route) && (route.getMigrationId() != null || route.getState() != ChunkState.ACTIVE
            || !route.getShardId().equals(state.getSourceShardId()))) {
            // Planned against a routing that has moved on: nothing has been written for this migration, so it ends
            // without touching either shard.
            String why = !sameBounds ? "the chunk was split since this migration was planned: it ends at " + KeyHex.of(route.getMax()) + " now"
                : "the chunk is no longer ACTIVE on " + state.getSourceShardId() + " without a migration: it is " + route.getState() + " on "
                + route.getShardId() + (route.getMigrationId() == null ? "" : " under migration " + route.getMigrationId());
            state.setError(why);
            migration.transition(MigrationPhase.ABORTED, why + "; nothing was copied");
            return;
        }
        // Recorded before the range can leave the source: a migration back into the source waits for its deletion.
        migration.plane.ownership().check();
        migration.plane.shardConnections().deletions(state.getSourceShardId()).record(new RangeDeletions.Task(state.getMigrationId(), RangeDeletions.Side.SOURCE,
            state.getNamespace(), min, max));
        long watermark = migration.plane.cdcEnd(state.getSourceShardId(), state.getNamespace());
        if (route.getState() != ChunkState.MIGRATING || !migration.mine(route)) {
            migration.plane.publishRoute(MigrationContext.next(route).setState(ChunkState.MIGRATING).setMigrationId(state.getMigrationId()).build());
        }
        RangeOps ops = migration.ops();
        state.setReplayOffset(watermark);
        state.setTotalDocs(ops.count());
        migration.transition(MigrationPhase.COPYING, "copying " + state.getTotalDocs() + " documents from " + state.getSourceShardId()
            + " to " + state.getTargetShardId() + " (replay from CDC offset " + watermark + ")");
    }
}
