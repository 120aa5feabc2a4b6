package io.shardline.worker.migration;

import java.time.Instant;
import java.util.Map;

import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.worker.data.CdcTail;
import io.shardline.worker.data.Replay;
import io.shardline.core.key.KeyHex;
import io.shardline.worker.plane.RangeDeletions;

/**
 * Abort and rollback. Before the cutover the source never stopped owning the range: the chunk is returned to it and
 * the copy removed from the target (ABORTED or ROLLED_BACK). After it, a rollback fences the chunk on the target,
 * drains the target's changes back to the source, returns the chunk and removes the range from the target
 * (ROLLED_BACK). Each deletion is recorded before the chunk is released and checked against the routing per batch.
 */
final class GiveUpStep {

    private final MigrationContext migration;

    GiveUpStep(MigrationContext migration) {
        this.migration = migration;
    }

    void beforeCutOver(MigrationPhase end, String why) throws InterruptedException {
        MigrationState state = migration.state;
        ChunkRoute route = migration.route();
        if (route.getShardId().equals(state.getTargetShardId()) && migration.mine(route)) {
            // Cut over before the last state was published: the target owns the range and may hold new writes.
            state.setCutOverAt(state.getCutOverAt() == null ? Instant.now() : state.getCutOverAt());
            migration.transition(MigrationPhase.CUT_OVER, "found cut over already; " + (state.getRollbackRequested()
                ? "rolling back from there" : "an abort is too late, the migration goes on"));
            state.setAbortRequested(false);
            return;
        }
        // Recorded before the chunk is released: a migration into the target planned from then on waits for this deletion.
        recordTargetDeletion();
        if (route.getShardId().equals(state.getSourceShardId()) && migration.mine(route)) {
            migration.plane.publishRoute(MigrationContext.next(route).setState(ChunkState.ACTIVE).setMigrationId(null).build());
        }
        long deleted = deleteFromTarget();
        migration.transition(end, why + "; " + deleted + " copied documents removed from " + state.getTargetShardId());
    }

    /** A rollback after the cutover: the same fence on the target, a drain back to the source, the chunk returned. */
    void afterCutOver(CdcTail tail, Replay backward) throws InterruptedException {
        MigrationState state = migration.state;
        ChunkRoute route = migration.route();
        if (route.getShardId().equals(state.getTargetShardId()) && !migration.mine(route)) {
            throw migration.stall("rollback refused: " + state.getTargetShardId() + " owns the chunk under migration " + route.getMigrationId());
        }
        if (route.getShardId().equals(state.getTargetShardId())) {
            recordTargetDeletion();
            long offset = migration.plane.publishRoute(MigrationContext.next(route).setState(ChunkState.FENCED).build());
            try {
                String missing = migration.awaitAcks(offset, migration.config.ackTimeout(), null);
                if (missing != null) {
                    migration.plane.publishRoute(MigrationContext.next(migration.route()).setState(ChunkState.ACTIVE).build());
                    migration.plane.event(ShardEventType.FENCE_TIMEOUT, state.getTargetShardId(), state.getNamespace(), state.getMigrationId(),
                        state.getCommandId(), null, "rollback fence not acknowledged by " + missing + "; retrying", Map.of());
                    Thread.sleep(migration.config.fenceRetryBackoff().toMillis());
                    return;
                }
                String marker = MigrationContext.MARKER_PREFIX + state.getMigrationId() + ":rollback";
                if (!backward.drainTo(tail, marker, System.currentTimeMillis() + migration.config.maxFenceHold().toMillis(), null)) {
                    migration.plane.publishRoute(MigrationContext.next(migration.route()).setState(ChunkState.ACTIVE).build());
                    Thread.sleep(migration.config.fenceRetryBackoff().toMillis());
                    return;
                }
            } catch (RuntimeException failed) {
                migration.liftFenceAfter(failed, ChunkState.ACTIVE);
                throw failed;
            }
            // The hand-back is recorded with the route that makes it, so that restores know from when the source owns the range again.
            migration.inOneTransaction(() -> {
                migration.plane.publishRoute(MigrationContext.next(migration.route()).setShardId(state.getSourceShardId()).setState(ChunkState.ACTIVE)
                    .setMigrationId(null).build());
                state.setHandedBackAt(Instant.now());
                migration.plane.publishMigration(state);
            });
        }
        long deleted = deleteFromTarget();
        migration.transition(MigrationPhase.ROLLED_BACK, state.getSourceShardId() + " owns the range again; " + deleted
            + " documents removed from " + state.getTargetShardId());
    }

    private void recordTargetDeletion() {
        MigrationState state = migration.state;
        migration.plane.ownership().check();
        migration.plane.shardConnections().deletions(state.getTargetShardId()).record(new RangeDeletions.Task(state.getMigrationId(), RangeDeletions.Side.TARGET,
            state.getNamespace(), KeyHex.of(state.getChunkMin()), KeyHex.of(state.getChunkMax())));
    }

    /** Deletes the range from the target, each batch checked against the routing; the migration's deletion tasks are done. */
    private long deleteFromTarget() throws InterruptedException {
        MigrationState state = migration.state;
        long deleted = migration.ops().deleteFromTarget(migration.config.deleteBatchSize(), 0,
            () -> migration.requireNotOwnedBy(state.getTargetShardId()));
        migration.plane.shardConnections().deletions(state.getTargetShardId()).remove(state.getMigrationId(), RangeDeletions.Side.TARGET);
        migration.plane.shardConnections().deletions(state.getSourceShardId()).remove(state.getMigrationId(), RangeDeletions.Side.SOURCE);
        return deleted;
    }
}
