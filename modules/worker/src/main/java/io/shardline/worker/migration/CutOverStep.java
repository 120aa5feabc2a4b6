package io.shardline.worker.migration;

import java.time.Instant;

import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;

/**
 * The cutover: the chunk ACTIVE on the target under this migration (routers release the writes they hold once they
 * read it) and CUT_OVER, in one transaction. VERIFIED resumes here; a run resumed in FENCED or before the cutover
 * whose route already names the target finds it cut over.
 */
final class CutOverStep {

    private final MigrationContext migration;

    CutOverStep(MigrationContext migration) {
        this.migration = migration;
    }

    /** VERIFIED -> CUT_OVER. */
    void run() {
        migration.inOneTransaction(() -> {
            publishRoute();
            enter();
        });
    }

    /** Publishes the chunk ACTIVE on the target, unless it is there already. */
    void publishRoute() {
        MigrationState state = migration.state;
        ChunkRoute route = migration.route();
        if (!route.getShardId().equals(state.getTargetShardId())) {
            migration.plane.publishRoute(MigrationContext.next(route).setShardId(state.getTargetShardId()).setState(ChunkState.ACTIVE)
                .setMigrationId(state.getMigrationId()).build());
        }
    }

    void enter() {
        MigrationState state = migration.state;
        state.setCutOverAt(Instant.now());
        migration.transition(MigrationPhase.CUT_OVER, state.getTargetShardId() + " owns the range; changes there are replayed to "
            + state.getSourceShardId() + " for " + migration.config.gracePeriod().toSeconds() + " s");
    }

    /**
     * True (and the run moved on to CUT_OVER) when the route already names the target for this migration: the
     * cutover was published before the worker that made it could publish the state that followed.
     */
    boolean found(String how) {
        MigrationState state = migration.state;
        ChunkRoute route = migration.route();
        if (!route.getShardId().equals(state.getTargetShardId()) || !migration.mine(route)) {
            return false;
        }
        state.setCutOverAt(state.getCutOverAt() == null ? Instant.now() : state.getCutOverAt());
        migration.transition(MigrationPhase.CUT_OVER, "found cut over already; " + how);
        return true;
    }
}
