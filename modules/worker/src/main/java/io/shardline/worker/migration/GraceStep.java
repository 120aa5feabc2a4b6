package io.shardline.worker.migration;

import java.time.Duration;
import java.util.HashSet;

import io.shardline.core.key.KeyRange;
import io.shardline.core.routing.RangeRelease;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.worker.data.CdcTail;
import io.shardline.worker.data.Replay;
import io.shardline.core.key.KeyHex;
import io.shardline.worker.plane.RangeDeletions;

/**
 * CUT_OVER: replays the target's changes back to the source for the grace period (a rollback from here loses
 * nothing), then releases the range on the source (a record routers with older routing find there) and deletes it
 * from the source, each batch checked against the routing -> CLEANED. A rollback requested meanwhile is handed to
 * {@link GiveUpStep#afterCutOver}.
 */
final class GraceStep {

    private final MigrationContext migration;

    GraceStep(MigrationContext migration) {
        this.migration = migration;
    }

    void run() throws InterruptedException {
        MigrationState state = migration.state;
        Replay backward = new Replay(migration.plane, migration.ops().reversed(), state.getTargetShardId(), state.getNamespace(), state.getMigrationId());
        long ends = state.getCutOverAt().toEpochMilli() + migration.config.gracePeriod().toMillis();
        try (CdcTail tail = new CdcTail(migration.plane.bootstrapServers(), TopicCatalog.cdcTopic(state.getTargetShardId(), state.getNamespace()),
            state.getReverseReplayOffset())) {
            while (System.currentTimeMillis() < ends) {
                migration.plane.ownership().check();
                migration.takeRequests();
                if (state.getRollbackRequested()) {
                    new GiveUpStep(migration).afterCutOver(tail, backward);
                    return;
                }
                migration.requireCutOverHere("the replay back to " + state.getSourceShardId());
                backward.apply(tail, new HashSet<>(), Duration.ofMillis(200));
                state.setReverseReplayOffset(tail.position());
                migration.progress();
            }
        }
        migration.requireCutOverHere("the deletion of the range from " + state.getSourceShardId());
        migration.requireNotOwnedBy(state.getSourceShardId());
        recordRelease();
        long deleted = migration.ops().deleteFromSource(migration.config.deleteBatchSize(), 10,
            () -> migration.requireNotOwnedBy(state.getSourceShardId()));
        migration.plane.shardConnections().deletions(state.getSourceShardId()).remove(state.getMigrationId(), RangeDeletions.Side.SOURCE);
        migration.inOneTransaction(() -> {
            ChunkRoute route = migration.route();
            if (migration.mine(route)) {
                migration.plane.publishRoute(MigrationContext.next(route).setMigrationId(null).build());
            }
            migration.transition(MigrationPhase.CLEANED, "grace period over: " + deleted + " documents of the range deleted from "
                + state.getSourceShardId());
        });
    }

    /**
     * Before the source loses the range: a record there that names the routing version which moved it, so a router
     * reading the range from the source with routing older than that refreshes instead of trusting what it read. The
     * version is the position after the chunk's latest route (the cutover or later), which every router at or past it
     * has applied.
     */
    private void recordRelease() {
        MigrationState state = migration.state;
        String key = TopicCatalog.routingKey(state.getNamespace(), KeyHex.of(state.getChunkMin()));
        var entry = migration.plane.routing().entry(key);
        if (entry == null) {
            throw new IllegalStateException("chunk " + KeyHex.of(state.getChunkMin()) + " of " + state.getNamespace() + " is not in the routing");
        }
        migration.plane.shardConnections().recordRelease(state.getSourceShardId(), new RangeRelease(state.getNamespace(),
            KeyRange.ofEncoded(state.getChunkMin(), state.getChunkMax()), state.getTargetShardId(), state.getMigrationId(), entry.offset() + 1));
    }
}
