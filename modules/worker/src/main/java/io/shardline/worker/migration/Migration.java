package io.shardline.worker.migration;

import java.time.Instant;

import java.util.concurrent.CompletableFuture;

import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.worker.config.WorkerConfig;
import io.shardline.worker.plane.ControlPlane;
import io.shardline.worker.plane.Ownership;

/**
 * One chunk migration, carried by one object from whatever state it is in to its end. Every transition is published
 * on the migrations topic before the step it leads to starts, so a worker that dies anywhere is resumed by another
 * from the last published state; every step is idempotent under such a repeat. The two inside the fence (FENCED,
 * VERIFIED) are not waited for: a worker resumed from an earlier state finds the route fenced or already cut over.
 * Every write to a shard and every publication first checks that this worker's term still holds.
 *
 * <pre>
 * PLANNED     mark the chunk MIGRATING; watermark = end of the source's CDC topic    {@link PlanStep}     -> COPYING
 * COPYING     copy the range in key order, resumable from the last key               {@link CopyStep}     -> CATCHING_UP
 * CATCHING_UP replay the source's changes until {@link FencePolicy} lets a fence in  {@link CatchUpStep}
 *             fence, drain to a marker, verify                                       {@link FenceStep}    -> FENCED -> VERIFIED
 * VERIFIED    publish the chunk ACTIVE on the target                                 {@link CutOverStep}  -> CUT_OVER
 * CUT_OVER    replay the target's changes back for the grace period, then delete the
 *             range from the source                                                  {@link GraceStep}    -> CLEANED
 * any         abort / rollback on request                                            {@link GiveUpStep}   -> ABORTED / ROLLED_BACK
 * </pre>
 *
 * The worker runs a migration up to its cutover ({@link #runUntilCutOver}) and then hands the same object to a grace
 * thread ({@link #runToEnd}); requests for it ({@link #request}) are messages it takes in between steps.
 */
public final class Migration {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Migration.class);

    private final MigrationContext context;
    private final PlanStep plan;
    private final CopyStep copy;
    private final CatchUpStep catchUp;
    private final FenceStep fence;
    private final CutOverStep cutOver;
    private final GraceStep grace;
    private final GiveUpStep giveUp;

    public Migration(ControlPlane plane, WorkerConfig config, MigrationListener listener, MigrationState state) {
        this.context = new MigrationContext(plane, config, listener, state);
        this.plan = new PlanStep(context);
        this.copy = new CopyStep(context);
        this.cutOver = new CutOverStep(context);
        this.fence = new FenceStep(context, cutOver);
        this.catchUp = new CatchUpStep(context, fence);
        this.grace = new GraceStep(context);
        this.giveUp = new GiveUpStep(context);
    }

    public String id() {
        return context.state.getMigrationId();
    }

    /** The state as this object holds it (a copy). */
    public MigrationState state() {
        return MigrationState.newBuilder(context.state).build();
    }

    public boolean ended() {
        return MigrationPhases.ended(context.state);
    }

    /**
     * Sends an abort ({@code abort}) or a rollback to the running migration: completed once a published state carries
     * it, failed if the run stops first (the request is then to be published on the migration's state directly).
     */
    public CompletableFuture<Void> request(boolean abort) {
        return context.request(abort);
    }

    /** Fails the requests not taken in: the run has stopped. */
    public void stopped(Throwable why) {
        context.failRequests(why);
    }

    /** Runs up to the cutover or an end: the grace period that follows needs nothing of the runner. */
    public MigrationState runUntilCutOver() throws InterruptedException {
        return run(false);
    }

    /** Runs to an end state and returns it. */
    public MigrationState runToEnd() throws InterruptedException {
        return run(true);
    }

    private MigrationState run(boolean throughGrace) throws InterruptedException {
        MigrationState state = context.state;
        Ownership ownership = context.plane.ownership();
        ownership.check();
        if (state.getOwnerEpoch() > ownership.term()) {
            throw new Ownership.Lost("migration " + state.getMigrationId() + " was published by term " + state.getOwnerEpoch()
                + ", newer than this worker's " + ownership.term());
        }
        state.setWorkerId(context.plane.workerId());
        state.setOwnerEpoch(ownership.term());
        context.listener.step(state());
        while (!ended() && (throughGrace || state.getPhase() != MigrationPhase.CUT_OVER)) {
            ownership.check();
            context.takeRequests();
            if (context.giveUpRequested() && state.getPhase() != MigrationPhase.CUT_OVER) {
                giveUp.beforeCutOver(state.getAbortRequested() ? MigrationPhase.ABORTED : MigrationPhase.ROLLED_BACK,
                    state.getAbortRequested() ? "aborted on request" : "rolled back on request before the cutover");
                continue;
            }
            // Inside the fence writes are held: the fence's own bounds end it, a DOWN shard does not park it there.
            boolean fenced = state.getPhase() == MigrationPhase.FENCED || state.getPhase() == MigrationPhase.VERIFIED;
            if (!fenced) {
                context.requireShardsUp();
            }
            if (state.getPhase() == MigrationPhase.COPYING || state.getPhase() == MigrationPhase.CATCHING_UP) {
                Instant failedOver = context.targetFailedOverSinceCopy();
                if (failedOver != null) {
                    copyAgain(failedOver);
                    continue;
                }
            }
            try {
                step();
            } catch (RuntimeException failed) {
                if (!fenced && !(failed instanceof Stalled) && !(failed instanceof Ownership.Lost)) {
                    // A step that failed because a shard went DOWN waits for it instead of being retried against it.
                    try {
                        context.requireShardsUp();
                    } catch (Stalled stalled) {
                        LOG.warn("migration {} waits for a DOWN shard after its step in {} failed: {}", state.getMigrationId(), state.getPhase(),
                            failed.toString(), failed);
                        stalled.addSuppressed(failed);
                        throw stalled;
                    }
                }
                throw failed;
            }
        }
        return state();
    }

    /**
     * The target failed over since the copy began: its promoted standby holds what the target's CDC connector had
     * captured of the copy and the replay, maybe not all of it. The range is wiped there and the migration starts its
     * copy again from a new watermark, as a new migration would; routers do not write to the range on the target before
     * the cutover, so nothing else is lost there.
     */
    private void copyAgain(Instant failedOver) throws InterruptedException {
        MigrationState state = context.state;
        long wiped = context.ops().deleteFromTarget(context.config.deleteBatchSize(), 0, () -> context.requireNotOwnedBy(state.getTargetShardId()));
        long watermark = context.plane.cdcEnd(state.getSourceShardId(), state.getNamespace());
        state.setTargetFailedOverAt(failedOver);
        state.setLastCopiedKey(null);
        state.setCopiedDocs(0);
        state.setCopiedBytes(0);
        state.setReplayOffset(watermark);
        state.setTotalDocs(context.ops().count());
        context.transition(MigrationPhase.COPYING, state.getTargetShardId() + " failed over at " + failedOver + ", so its copy may lack what its CDC"
            + " connector had not captured: " + wiped + " documents removed there, copying " + state.getTotalDocs() + " anew (replay from CDC offset "
            + watermark + ")");
    }

    private void step() throws InterruptedException {
        MigrationState state = context.state;
        switch (state.getPhase()) {
            case PLANNED -> plan.run();
            case COPYING -> copy.run();
            case CATCHING_UP -> catchUp.run();
            case FENCED -> {
                if (!cutOver.found(state.getTargetShardId() + " owns the range")) {
                    fence.unfence("resumed while fenced: the fence is lifted and the catch-up resumes");
                }
            }
            case VERIFIED -> cutOver.run();
            case CUT_OVER -> grace.run();
            default -> throw new IllegalStateException("no step for " + state.getPhase());
        }
    }
}
