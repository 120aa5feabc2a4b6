package io.shardline.worker.migration;

import java.time.Duration;
import java.util.Map;
import java.util.Set;

import org.bson.BsonValue;

import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.worker.data.ChangeSource;
import io.shardline.worker.data.RangeOps;
import io.shardline.worker.data.Replay;

/**
 * One fence attempt, from CATCHING_UP: publish the chunk FENCED (with the FENCED state, in one transaction), wait for
 * every live router's ack past it, drain the source's change stream to a marker written once acked, verify, wait for
 * the target's standby (if it has one) to hold what was written to the target, and cut
 * over (VERIFIED, the route on the target and CUT_OVER in one transaction). Anything that does not fit the fence's
 * hard bound lifts the fence (back to CATCHING_UP, with a back-off); a verification failure aborts with the source
 * authoritative.
 */
final class FenceStep {

    /** Changed documents compared per query while fenced, between checks of the fence's hard bound. */
    private static final int VERIFY_BATCH = 500;

    private final MigrationContext migration;
    private final CutOverStep cutOver;

    FenceStep(MigrationContext migration, CutOverStep cutOver) {
        this.migration = migration;
        this.cutOver = cutOver;
    }

    /**
     * Prepares and makes one attempt: true when it ended the catch-up (cut over or aborted), false when it unfenced.
     *
     * @param changes the source's own change stream, opened before the probe: the fence drains it to a marker
     * @param changed the documents changed since the pre-check; a large range verifies only those, a small one all
     * @param large   a range verified by its changed documents (its pre-check found the rest equal) rather than whole
     */
    boolean attempt(ChangeSource changes, RangeOps ops, Replay replay, Set<BsonValue> changed, boolean large, boolean preChecked, int probe)
        throws InterruptedException {
        MigrationState state = migration.state;
        // Where the replay back to the source will start: read before fencing, not while writes wait. Anything the
        // target records from here on is replayed back during the grace period (idempotently; before the cutover the
        // target only holds what this migration wrote there).
        long reverseFrom = migration.plane.cdcEnd(state.getTargetShardId(), state.getNamespace());
        // The acks table read up to now (its first read can take tens of milliseconds), before the narrowing: what is
        // written between the last narrowing pass and the fence is drained fenced.
        migration.plane.acks();
        if (large && preChecked) {
            replay.narrow(changes, changed, MigrationContext.MARKER_PREFIX + state.getMigrationId() + ":narrow:" + probe + ":",
                System.currentTimeMillis() + migration.config.maxFenceHold().toMillis());
        } else {
            replay.catchUp(changes, changed);
        }
        return fence(changes, ops, replay, large ? changed : null, reverseFrom);
    }

    private boolean fence(ChangeSource changes, RangeOps ops, Replay replay, Set<BsonValue> changed, long reverseFrom)
        throws InterruptedException {
        MigrationState state = migration.state;
        long fenceStart = System.nanoTime();
        long deadline = System.currentTimeMillis() + migration.config.maxFenceHold().toMillis();
        long fenceOffset = migration.inOneTransaction(() -> {
            long offset = migration.plane.publishRoute(MigrationContext.next(migration.route()).setState(ChunkState.FENCED)
                .setMigrationId(state.getMigrationId()).build());
            state.setFenceAttempts(state.getFenceAttempts() + 1);
            state.setReverseReplayOffset(reverseFrom);
            migration.transitionSent(MigrationPhase.FENCED, "fenced at routing version " + offset + " (attempt " + state.getFenceAttempts() + ")"
                + (changed == null ? "" : "; " + changed.size() + " changed documents to compare so far"));
            return offset;
        });
        try {
            long acksStart = System.nanoTime();
            // Routers take writes until they read the fence: while their acks come in, those writes are applied and
            // compared, so that what is left to drain and compare after the marker is what came in since the last pass.
            String missing = migration.awaitAcks(fenceOffset, migration.config.ackTimeout(), changed == null ? null : () -> replay.narrowOnce(changes, changed));
            long acksMillis = (System.nanoTime() - acksStart) / 1_000_000;
            if (missing != null) {
                migration.plane.event(ShardEventType.FENCE_TIMEOUT, state.getSourceShardId(), state.getNamespace(), state.getMigrationId(),
                    state.getCommandId(), null, "routers did not acknowledge the fence within " + migration.config.ackTimeout().toMillis() + " ms: "
                        + missing, Map.of("attempt", (double) state.getFenceAttempts()));
                unfence("fence timed out waiting for " + missing);
                return false;
            }
            String marker = MigrationContext.MARKER_PREFIX + state.getMigrationId() + ":" + state.getFenceAttempts();
            long drainStart = System.nanoTime();
            if (!replay.drainTo(changes, marker, deadline, changed)) {
                unfence("the drain to the marker did not finish within the fence's hard bound of " + migration.config.maxFenceHold().toMillis() + " ms");
                return false;
            }
            long verifyStart = System.nanoTime();
            long drainMillis = (verifyStart - drainStart) / 1_000_000;
            String mismatch;
            if (changed == null) {
                mismatch = verifyWhole(ops);
            } else {
                // The pre-check found both sides equal but for documents changed since; those are compared again, in
                // batches, within the fence's hard bound. Past it the fence is lifted; the next probe narrows the set down
                // to the documents that still differ, so the next attempt has less to compare.
                RangeOps.Agreement agreement = ops.sameOnBothSides(changed, VERIFY_BATCH, deadline);
                if (agreement == RangeOps.Agreement.UNFINISHED) {
                    unfence("comparing the " + changed.size() + " documents changed during the catch-up did not finish within "
                        + "the fence's hard bound of " + migration.config.maxFenceHold().toMillis() + " ms");
                    return false;
                }
                mismatch = agreement == RangeOps.Agreement.SAME ? null : "documents changed during the catch-up differ between source and target";
            }
            long verifyMillis = (System.nanoTime() - verifyStart) / 1_000_000;
            if (mismatch != null) {
                migration.verificationFailed(mismatch);
                new GiveUpStep(migration).beforeCutOver(MigrationPhase.ABORTED, "verification failed: " + mismatch);
                return true;
            }
            long standbyStart = System.nanoTime();
            String behind = migration.awaitTargetStandby(deadline);
            if (behind != null) {
                unfence(behind);
                return false;
            }
            long standbyMillis = (System.nanoTime() - standbyStart) / 1_000_000;
            String verified = "source and target agree on the range (acks in " + acksMillis + " ms, drained in " + drainMillis + " ms, verified "
                + (changed == null ? "by a full scan" : changed.size() + " changed documents") + " in " + verifyMillis + " ms"
                + (migration.targetHasStandby() ? ", on the target's standby in " + standbyMillis + " ms" : "") + ")";
            // The route first: a partition joining a transaction after others were written in it waited ~0.5 s for the
            // produce to be acknowledged, with writes held all the while.
            migration.inOneTransaction(() -> {
                cutOver.publishRoute();
                migration.transitionSent(MigrationPhase.VERIFIED, verified);
                cutOver.enter();
            });
        } catch (RuntimeException failed) {
            migration.liftFenceAfter(failed, ChunkState.MIGRATING);
            throw failed;
        }
        migration.listener.fenceHeld(Duration.ofNanos(System.nanoTime() - fenceStart));
        return true;
    }

    /** Null when both sides agree on the whole range (at most {@code verifyFullScanMaxDocs} documents), else what differs. */
    private static String verifyWhole(RangeOps ops) {
        RangeOps.Digest source = ops.digestFrom();
        RangeOps.Digest target = ops.digestTo();
        return source.equals(target) ? null
            : "source holds " + source.count() + " documents, target " + target.count() + ", and their hashes differ";
    }

    /** Lifts this migration's fence (the chunk MIGRATING again) and backs off before the next probe -> CATCHING_UP. */
    void unfence(String why) {
        ChunkRoute route = migration.route();
        if (route.getState() == ChunkState.FENCED && migration.mine(route)) {
            migration.plane.publishRoute(MigrationContext.next(route).setState(ChunkState.MIGRATING).build());
        }
        long backoff = migration.fencePolicy.unfenced(migration.state.getFenceAttempts(), System.currentTimeMillis());
        migration.transition(MigrationPhase.CATCHING_UP, why + "; next fence in " + backoff + " ms at the earliest");
    }
}
