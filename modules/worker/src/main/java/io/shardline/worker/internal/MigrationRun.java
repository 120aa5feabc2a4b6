package io.shardline.worker.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.BsonDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.core.key.KeyRange;
import io.shardline.core.routing.RangeRelease;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.RouterAck;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.worker.WorkerConfig;

/**
 * One chunk migration, carried from whatever state it is in to its end. Every transition is published on the
 * migrations topic before the step it leads to starts, so a worker that dies anywhere is resumed by another from the
 * last published state; every step is idempotent under such a repeat. The two inside the fence (FENCED, VERIFIED)
 * are not waited for: a worker resumed from an earlier state finds the route fenced or already cut over.
 *
 * <pre>
 * PLANNED     mark the chunk MIGRATING; watermark = end of the source's CDC topic          -> COPYING
 * COPYING     copy the range in key order ({@link RangeCopy}, resumable from the last key)   -> CATCHING_UP
 * CATCHING_UP replay the source's changes from the watermark until a probe marker comes back within the fence
 *             budget, then from the source's own change stream ({@link ShardChangeStream});
 *             fence: publish the chunk FENCED, wait for every live router's ack past it     -> FENCED
 * FENCED      drain the change stream to a marker written on the source, verify              -> VERIFIED (or unfence / ABORTED)
 * VERIFIED    publish the chunk ACTIVE on the target                                         -> CUT_OVER
 * CUT_OVER    replay the target's changes back to the source for the grace period, then delete the range from the
 *             source                                                                         -> CLEANED
 *             (RollbackMigration here: fence on the target, drain back, return the chunk     -> ROLLED_BACK)
 * </pre>
 */
public final class MigrationRun {

    private static final Logger LOG = LoggerFactory.getLogger(MigrationRun.class);
    private static final Set<MigrationPhase> ENDED = EnumSet.of(MigrationPhase.CLEANED, MigrationPhase.ABORTED, MigrationPhase.ROLLED_BACK);
    private static final String MARKER_PREFIX = "shardline:marker:";
    /** Changed documents compared per query while fenced, between checks of the fence's hard bound. */
    private static final int VERIFY_BATCH = 500;

    /**
     * The run cannot go on safely for now (a deletion would touch a range its shard owns, the range moved again):
     * the migration stays where it is, a {@code MIGRATION_STALLED} event says why, and the worker looks again later.
     */
    public static final class Stalled extends RuntimeException {
        public Stalled(String message) {
            super(message);
        }
    }

    /** What the run reports as it goes (meters). */
    public interface Listener extends RangeCopy.Listener {
        /** Told of the state a run resumes from, and of every state it enters (as it is sent to the migrations topic). */
        void step(MigrationState state);

        void replayLag(String migrationId, long events, long millis);

        void fenceHeld(Duration held);
    }

    private final ControlPlane plane;
    private final WorkerConfig config;
    private final Listener listener;
    private final MigrationState state;
    private final java.util.function.Supplier<MigrationState> latest;
    private long lastProgress;
    /** States entered inside the current transaction: the listener hears of them once it committed. */
    private final List<MigrationState> unannounced = new java.util.ArrayList<>();
    private int transactionDepth;
    private long fenceBackoffUntil;

    /**
     * @param latest the migration as last published (a rollback or abort may arrive while it runs)
     */
    public MigrationRun(ControlPlane plane, WorkerConfig config, Listener listener, MigrationState state,
                        java.util.function.Supplier<MigrationState> latest) {
        this.plane = plane;
        this.config = config;
        this.listener = listener;
        this.state = MigrationState.newBuilder(state).build();
        this.latest = latest;
    }

    public static boolean ended(MigrationState state) {
        return ENDED.contains(state.getPhase());
    }

    /** Runs to an end state and returns it. */
    public MigrationState run() throws InterruptedException {
        return run(true);
    }

    /**
     * Runs to an end state or, with {@code throughGrace == false}, until the cutover: the grace period that follows
     * needs nothing of the runner and can go on beside the next migration.
     */
    public MigrationState run(boolean throughGrace) throws InterruptedException {
        Ownership ownership = plane.ownership();
        ownership.check();
        if (state.getOwnerEpoch() > ownership.term()) {
            throw new Ownership.Lost("migration " + state.getMigrationId() + " was published by term " + state.getOwnerEpoch()
                + ", newer than this worker's " + ownership.term());
        }
        state.setWorkerId(plane.workerId());
        state.setOwnerEpoch(ownership.term());
        listener.step(MigrationState.newBuilder(state).build());
        while (!ended(state) && (throughGrace || state.getPhase() != MigrationPhase.CUT_OVER)) {
            ownership.check();
            refreshRequests();
            if ((state.getAbortRequested() || state.getRollbackRequested()) && state.getPhase() != MigrationPhase.CUT_OVER) {
                giveUpBeforeCutover(state.getAbortRequested() ? MigrationPhase.ABORTED : MigrationPhase.ROLLED_BACK,
                    state.getAbortRequested() ? "aborted on request" : "rolled back on request before the cutover");
                continue;
            }
            switch (state.getPhase()) {
                case PLANNED -> plan();
                case COPYING -> copy();
                case CATCHING_UP -> catchUpAndFence();
                case FENCED -> {
                    if (!foundCutOver()) {
                        unfence("resumed while fenced: the fence is lifted and the catch-up resumes");
                    }
                }
                case VERIFIED -> cutOver();
                case CUT_OVER -> grace();
                default -> throw new IllegalStateException("no step for " + state.getPhase());
            }
        }
        return state;
    }

    private void refreshRequests() {
        MigrationState published = latest.get();
        if (published != null) {
            state.setRollbackRequested(state.getRollbackRequested() || published.getRollbackRequested());
            state.setAbortRequested(state.getAbortRequested() || published.getAbortRequested());
        }
    }

    // ------------------------------------------------------------------ steps

    private void plan() throws InterruptedException {
        ChunkRoute route = route();
        String min = Hex.of(state.getChunkMin());
        String max = Hex.of(state.getChunkMax());
        Map<String, MigrationState> migrations = plane.migrations().values();
        // A task of a migration that has ended is a leftover: every ending removes its tasks before it is published.
        List<RangeDeletions.Task> pending = plane.deletions(state.getTargetShardId()).overlapping(state.getNamespace(), min, max, state.getMigrationId())
            .stream().filter(task -> migrations.get(task.migrationId()) == null || !ended(migrations.get(task.migrationId()))).toList();
        if (!pending.isEmpty()) {
            // A copy must not land where a deletion of the range is still to run: it would delete the copy.
            String waiting = state.getTargetShardId() + " still has a deletion of " + pending.get(0).describe() + " to run";
            if (!waiting.equals(state.getError())) {
                state.setError(waiting);
                LOG.info("migration {} waits: {}", state.getMigrationId(), waiting);
                plane.publishMigration(state);
            }
            Thread.sleep(500);
            return;
        }
        state.setError(null);
        boolean mine = state.getMigrationId().equals(route.getMigrationId());
        boolean sameBounds = java.util.Objects.equals(Hex.of(route.getMax()), max);
        if (!sameBounds || !mine && (route.getMigrationId() != null || route.getState() != ChunkState.ACTIVE
            || !route.getShardId().equals(state.getSourceShardId()))) {
            // Planned against a routing that has moved on (another migration took the chunk first): nothing has been
            // written for this one, so it ends without touching either shard.
            String why = !sameBounds ? "the chunk was split since this migration was planned: it ends at " + Hex.of(route.getMax()) + " now"
                : "the chunk is no longer ACTIVE on " + state.getSourceShardId() + " without a migration: it is " + route.getState() + " on "
                + route.getShardId() + (route.getMigrationId() == null ? "" : " under migration " + route.getMigrationId());
            state.setError(why);
            transition(MigrationPhase.ABORTED, why + "; nothing was copied");
            return;
        }
        // Recorded before the range can leave the source: a migration back into the source waits for its deletion.
        plane.ownership().check();
        plane.deletions(state.getSourceShardId()).record(new RangeDeletions.Task(state.getMigrationId(), RangeDeletions.Side.SOURCE,
            state.getNamespace(), min, max));
        long watermark = plane.cdcEnd(state.getSourceShardId(), state.getNamespace());
        if (route.getState() != ChunkState.MIGRATING || !state.getMigrationId().equals(route.getMigrationId())) {
            plane.publishRoute(next(route).setState(ChunkState.MIGRATING).setMigrationId(state.getMigrationId()).build());
        }
        RangeOps ops = ops();
        state.setReplayOffset(watermark);
        state.setTotalDocs(ops.count());
        transition(MigrationPhase.COPYING, "copying " + state.getTotalDocs() + " documents from " + state.getSourceShardId()
            + " to " + state.getTargetShardId() + " (replay from CDC offset " + watermark + ")");
    }

    /** Copies the range (see {@link RangeCopy}), publishing its progress and resume point as it goes. */
    private void copy() throws InterruptedException {
        String from = state.getLastCopiedKey() == null ? Hex.of(state.getChunkMin()) : Hex.of(state.getLastCopiedKey());
        RangeCopy copy = new RangeCopy(ops(), from, config.copyBatchSize(), config.copyStreams(), config.copyLatencyTarget(), listener,
            state.getCopiedDocs(), state.getCopiedBytes());
        RangeCopy.Progress done = copy.run("copy-" + state.getMigrationId(), Duration.ofMillis(Math.max(10, Math.min(200, config.progressInterval().toMillis()))),
            progress -> {
                recordCopy(progress);
                plane.ownership().check();
                progress();
                refreshRequests();
                return !state.getAbortRequested() && !state.getRollbackRequested();
            });
        recordCopy(done);
        if (!done.finished()) {
            return;
        }
        transition(MigrationPhase.CATCHING_UP, "copied " + state.getCopiedDocs() + " documents (" + state.getCopiedBytes() + " bytes) from one "
            + "scan in key order by " + config.copyStreams() + " writer" + (config.copyStreams() == 1 ? "" : "s"));
    }

    private void recordCopy(RangeCopy.Progress progress) {
        state.setCopiedDocs(progress.documents());
        state.setCopiedBytes(progress.bytes());
        if (progress.finished() && state.getChunkMax() != null) {
            state.setLastCopiedKey(state.getChunkMax());
        } else {
            state.setLastCopiedKey(Hex.bytes(progress.resumeKey()));
        }
    }

    private void catchUpAndFence() throws InterruptedException {
        RangeOps ops = ops();
        Replay replay = new Replay(plane, ops, state.getSourceShardId(), state.getNamespace(), state.getMigrationId());
        ChunkRoute current = route();
        if (current.getState() == ChunkState.FENCED && state.getMigrationId().equals(current.getMigrationId())) {
            // Fenced before the last state was published: lift it before catching up again.
            plane.publishRoute(next(current).setState(ChunkState.MIGRATING).build());
        }
        try (CdcTail tail = new CdcTail(plane.bootstrapServers(), TopicCatalog.cdcTopic(state.getSourceShardId(), state.getNamespace()),
            state.getReplayOffset())) {
            Set<BsonValue> changedSincePreCheck = new LinkedHashSet<>();
            boolean preChecked = false;
            int preChecks = 0;
            int probes = 0;
            int slowProbes = 0;
            double eventsPerSecond = 1_000;
            while (true) {
                plane.ownership().check();
                refreshRequests();
                if (state.getAbortRequested() || state.getRollbackRequested()) {
                    return;
                }
                long started = System.nanoTime();
                int applied = replay.apply(tail, changedSincePreCheck, Duration.ofMillis(100));
                double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
                if (applied > 0) {
                    eventsPerSecond = 0.7 * eventsPerSecond + 0.3 * (applied / seconds);
                }
                long lag = tail.lag();
                state.setReplayOffset(tail.position());
                state.setReplayLagEvents(lag);
                state.setReplayLagMillis((long) (lag / Math.max(1, eventsPerSecond) * 1000));
                listener.replayLag(state.getMigrationId(), lag, state.getReplayLagMillis());
                progress();
                double predictedMillis = lag / Math.max(1, eventsPerSecond) * 1000;
                boolean large = state.getTotalDocs() > config.verifyFullScanMaxDocs();
                if (large && !preChecked && predictedMillis < config.fenceBudget().toMillis()) {
                    // A large range is compared whole before the fence; while fenced only the keys changed since are rechecked.
                    String corrupted = preCheck(tail, ops, replay, changedSincePreCheck, ++preChecks);
                    LOG.debug("migration {}: pre-check {} {}", state.getMigrationId(), preChecks,
                        changedSincePreCheck.contains(PRECHECK_INCOMPLETE) ? "incomplete, to be repeated" : "done");
                    if (corrupted != null) {
                        state.setError("verification failed: " + corrupted);
                        plane.event(ShardEventType.MIGRATION_FAILED, state.getSourceShardId(), state.getNamespace(), state.getMigrationId(),
                            state.getCommandId(), null, "verification failed, the source stays authoritative: " + corrupted, Map.of());
                        giveUpBeforeCutover(MigrationPhase.ABORTED, "verification failed: " + corrupted);
                        return;
                    }
                    preChecked = !changedSincePreCheck.contains(PRECHECK_INCOMPLETE);
                    changedSincePreCheck.remove(PRECHECK_INCOMPLETE);
                    continue;
                }
                if (predictedMillis < config.fenceBudget().toMillis() && System.currentTimeMillis() >= fenceBackoffUntil) {
                    // The topic's lag does not show what the connector has yet to publish. A probe marker, written and
                    // drained without a fence, measures the whole path. The source's own change stream, opened before
                    // the marker is written, has every change the topic may not have once the marker came back: from
                    // there on the replay reads the shard directly, and so does the fence.
                    try (ShardChangeStream direct = ShardChangeStream.open(plane.collection(state.getSourceShardId(), state.getNamespace()))) {
                        long probeStart = System.nanoTime();
                        boolean drained = replay.drainTo(tail, MARKER_PREFIX + state.getMigrationId() + ":probe:" + (++probes),
                            System.currentTimeMillis() + config.maxFenceHold().toMillis(), changedSincePreCheck);
                        long probeMillis = (System.nanoTime() - probeStart) / 1_000_000;
                        state.setReplayOffset(tail.position());
                        // A connector that is simply this slow (an idle change stream may wait out its poll) would never
                        // let a fence in: after three probes over budget, fence if the drain fits well inside the hard bound.
                        slowProbes = drained && probeMillis >= config.fenceBudget().toMillis() ? slowProbes + 1 : 0;
                        boolean fits = probeMillis < config.fenceBudget().toMillis()
                            || slowProbes >= 3 && probeMillis < config.maxFenceHold().toMillis() / 2;
                        LOG.debug("migration {}: probe {} {} in {} ms (lag {} events); {}", state.getMigrationId(), probes,
                            drained ? "came back" : "did not come back", probeMillis, lag, drained && fits ? "fencing" : "not fencing yet");
                        if (drained && fits) {
                            // Where the replay back to the source will start: read before fencing, not while writes
                            // wait. Anything the target records from here on is replayed back during the grace period
                            // (idempotently; before the cutover the target only holds what this migration wrote there).
                            long reverseFrom = plane.cdcEnd(state.getTargetShardId(), state.getNamespace());
                            // The acks table read up to now (its first read can take tens of milliseconds), before the
                            // narrowing: what is written between the last narrowing pass and the fence is drained fenced.
                            plane.acks();
                            if (large && preChecked) {
                                replay.narrow(direct, changedSincePreCheck, MARKER_PREFIX + state.getMigrationId() + ":narrow:" + probes + ":",
                                    System.currentTimeMillis() + config.maxFenceHold().toMillis());
                            } else {
                                replay.catchUp(direct, changedSincePreCheck);
                            }
                            if (fence(direct, ops, replay, large ? changedSincePreCheck : null, reverseFrom)) {
                                return;
                            }
                        } else {
                            fenceBackoffUntil = System.currentTimeMillis() + Math.min(probeMillis, config.fenceRetryBackoff().toMillis());
                        }
                    }
                }
            }
        }
    }

    /** Marks a pre-check that could not finish (too many differences in flight, or the drain timed out). */
    private static final BsonValue PRECHECK_INCOMPLETE = new BsonString("shardline:precheck-incomplete");
    private static final int PRECHECK_MISMATCH_LIMIT = 10_000;

    /**
     * Compares the whole range before the fence: documents that differ and did not change on the source since the
     * comparison began (every such change is in once a marker written afterwards comes back) are corruption.
     * Returns what is corrupted, or null; adds {@link #PRECHECK_INCOMPLETE} to {@code changed} when it must be redone.
     */
    private String preCheck(CdcTail tail, RangeOps ops, Replay replay, Set<BsonValue> changed, int attempt) {
        changed.clear();
        List<BsonValue> mismatched = ops.mismatches(PRECHECK_MISMATCH_LIMIT);
        String marker = MARKER_PREFIX + state.getMigrationId() + ":precheck:" + attempt;
        if (mismatched.size() >= PRECHECK_MISMATCH_LIMIT
            || !replay.drainTo(tail, marker, System.currentTimeMillis() + 10 * config.maxFenceHold().toMillis(), changed)) {
            changed.add(PRECHECK_INCOMPLETE);
            return null;
        }
        state.setReplayOffset(tail.position());
        List<BsonValue> suspicious = mismatched.stream().filter(id -> !changed.contains(id) && !ops.sameOnBothSides(List.of(id))).toList();
        return suspicious.isEmpty() ? null
            : suspicious.size() + " documents differ on the target although the source did not change them (first: " + suspicious.get(0) + ")";
    }

    /**
     * One fence attempt: true when it ended the catch-up (cut over or aborted), false when it unfenced to retry.
     *
     * @param changes     the source's changes, read up to now: the fence drains them to a marker written once acked
     * @param replay      applies the source's changes to the target
     * @param reverseFrom the target's CDC offset the replay back to the source starts at after the cutover
     */
    private boolean fence(ChangeSource changes, RangeOps ops, Replay replay, Set<BsonValue> changedSincePreCheck, long reverseFrom)
        throws InterruptedException {
        long fenceStart = System.nanoTime();
        long deadline = System.currentTimeMillis() + config.maxFenceHold().toMillis();
        // The fenced route and the FENCED state in one transaction: routers see the fence once both are written.
        long fenceOffset = inOneTransaction(() -> {
            long offset = plane.publishRoute(next(route()).setState(ChunkState.FENCED).setMigrationId(state.getMigrationId()).build());
            state.setFenceVersion(offset);
            state.setFenceAttempts(state.getFenceAttempts() + 1);
            state.setReverseReplayOffset(reverseFrom);
            transitionSent(MigrationPhase.FENCED, "fenced at routing version " + offset + " (attempt " + state.getFenceAttempts() + ")"
                + (changedSincePreCheck == null ? "" : "; " + changedSincePreCheck.size() + " changed documents to compare so far"));
            return offset;
        });
        long acksStart = System.nanoTime();
        // Routers take writes until they read the fence: while their acks come in, those writes are applied and
        // compared, so that what is left to drain and compare after the marker is what came in since the last pass.
        String missing = awaitAcks(fenceOffset, config.ackTimeout(), changedSincePreCheck == null ? null
            : () -> replay.narrowOnce(changes, changedSincePreCheck));
        long acksMillis = (System.nanoTime() - acksStart) / 1_000_000;
        if (missing != null) {
            plane.event(ShardEventType.FENCE_TIMEOUT, state.getSourceShardId(), state.getNamespace(), state.getMigrationId(),
                state.getCommandId(), null, "routers did not acknowledge the fence within " + config.ackTimeout().toMillis() + " ms: " + missing,
                Map.of("attempt", (double) state.getFenceAttempts()));
            unfence("fence timed out waiting for " + missing);
            return false;
        }
        String marker = MARKER_PREFIX + state.getMigrationId() + ":" + state.getFenceAttempts();
        long drainStart = System.nanoTime();
        if (!replay.drainTo(changes, marker, deadline, changedSincePreCheck)) {
            unfence("the drain to the marker did not finish within the fence's hard bound of " + config.maxFenceHold().toMillis() + " ms");
            return false;
        }
        long verifyStart = System.nanoTime();
        long drainMillis = (verifyStart - drainStart) / 1_000_000;
        String mismatch;
        if (changedSincePreCheck == null) {
            mismatch = verifyWhole(ops);
        } else {
            // The pre-check found both sides equal but for documents changed since; those are compared again, in
            // batches, within the fence's hard bound. Past it the fence is lifted; the next probe narrows the set down
            // to the documents that still differ, so the next attempt has less to compare.
            RangeOps.Agreement agreement = ops.sameOnBothSides(changedSincePreCheck, VERIFY_BATCH, deadline);
            if (agreement == RangeOps.Agreement.UNFINISHED) {
                unfence("comparing the " + changedSincePreCheck.size() + " documents changed during the catch-up did not finish within "
                    + "the fence's hard bound of " + config.maxFenceHold().toMillis() + " ms");
                return false;
            }
            mismatch = agreement == RangeOps.Agreement.SAME ? null : "documents changed during the catch-up differ between source and target";
        }
        long verifyMillis = (System.nanoTime() - verifyStart) / 1_000_000;
        if (mismatch != null) {
            plane.event(ShardEventType.MIGRATION_FAILED, state.getSourceShardId(), state.getNamespace(), state.getMigrationId(),
                state.getCommandId(), null, "verification failed, the source stays authoritative: " + mismatch, Map.of());
            state.setError("verification failed: " + mismatch);
            giveUpBeforeCutover(MigrationPhase.ABORTED, "verification failed: " + mismatch);
            return true;
        }
        // VERIFIED, the route on the target and CUT_OVER in one transaction: all of them are written, or none.
        String verified = "source and target agree on the range (acks in " + acksMillis + " ms, drained in "
            + drainMillis + " ms, verified " + (changedSincePreCheck == null ? "by a full scan" : changedSincePreCheck.size() + " changed documents")
            + " in " + verifyMillis + " ms)";
        // The route first: a partition joining a transaction after others were written in it waited ~0.5 s for the
        // produce to be acknowledged (seen in the demo), with writes held all the while.
        inOneTransaction(() -> {
            publishCutOver();
            transitionSent(MigrationPhase.VERIFIED, verified);
            enterCutOver();
        });
        listener.fenceHeld(Duration.ofNanos(System.nanoTime() - fenceStart));
        return true;
    }

    /** Null when both sides agree on the whole range (at most {@code verifyFullScanMaxDocs} documents), else what differs. */
    private static String verifyWhole(RangeOps ops) {
        RangeOps.Digest source = ops.digestFrom();
        RangeOps.Digest target = ops.digestTo();
        return source.equals(target) ? null
            : "source holds " + source.count() + " documents, target " + target.count() + ", and their hashes differ";
    }

    /**
     * Waits for every router with a live lease to acknowledge a routing version above the offset; null when all did,
     * else the routers missing.
     *
     * @param whileWaiting what to do between looks at the acks (a few milliseconds of work), or null to sleep 5 ms
     */
    private String awaitAcks(long offset, Duration timeout, Runnable whileWaiting) throws InterruptedException {
        long started = System.currentTimeMillis();
        long deadline = started + timeout.toMillis();
        String missing = "";
        while (System.currentTimeMillis() < deadline) {
            plane.ownership().check();
            missing = "";
            long now = System.currentTimeMillis();
            java.util.Collection<RouterAck> acks = plane.acks().values().values();
            for (RouterAck ack : acks) {
                if (ack.getLeaseExpiresAt().toEpochMilli() > now && ack.getRoutingVersion() <= offset) {
                    missing += (missing.isEmpty() ? "" : ", ") + ack.getRouterId() + " (at " + ack.getRoutingVersion() + ")";
                }
            }
            if (missing.isEmpty()) {
                if (LOG.isDebugEnabled()) {
                    LOG.debug("migration {}: routing version {} acknowledged {} ms after the wait began; acks made {} ms after it", state.getMigrationId(),
                        offset, now - started, acks.stream().filter(ack -> ack.getRoutingVersion() > offset)
                            .map(ack -> ack.getRouterId() + " +" + (ack.getTimestamp().toEpochMilli() - started)).toList());
                }
                return null;
            }
            if (whileWaiting == null) {
                Thread.sleep(5);
            } else {
                whileWaiting.run();
            }
        }
        return missing;
    }

    private void unfence(String why) {
        ChunkRoute route = route();
        if (route.getState() == ChunkState.FENCED && state.getMigrationId().equals(route.getMigrationId())) {
            plane.publishRoute(next(route).setState(ChunkState.MIGRATING).build());
        }
        long backoff = config.fenceRetryBackoff().toMillis() << Math.min(5, Math.max(0, state.getFenceAttempts() - 1));
        fenceBackoffUntil = System.currentTimeMillis() + backoff;
        transition(MigrationPhase.CATCHING_UP, why + "; next fence in " + backoff + " ms at the earliest");
    }

    private void cutOver() {
        inOneTransaction(() -> {
            publishCutOver();
            enterCutOver();
        });
    }

    /** Publishes the chunk ACTIVE on the target: routers release the writes they hold once they read it. */
    private void publishCutOver() {
        ChunkRoute route = route();
        if (!route.getShardId().equals(state.getTargetShardId())) {
            plane.publishRoute(next(route).setShardId(state.getTargetShardId()).setState(ChunkState.ACTIVE)
                .setMigrationId(state.getMigrationId()).build());
        }
    }

    /**
     * True (and the run moved on to CUT_OVER) when the route already names the target for this migration: the
     * cutover was published before the worker that made it could publish the state that followed.
     */
    private boolean foundCutOver() {
        ChunkRoute route = route();
        if (!route.getShardId().equals(state.getTargetShardId()) || !state.getMigrationId().equals(route.getMigrationId())) {
            return false;
        }
        state.setCutOverAt(state.getCutOverAt() == null ? Instant.now() : state.getCutOverAt());
        transition(MigrationPhase.CUT_OVER, "found cut over already; " + state.getTargetShardId() + " owns the range");
        return true;
    }

    private void enterCutOver() {
        state.setCutOverAt(Instant.now());
        transition(MigrationPhase.CUT_OVER, state.getTargetShardId() + " owns the range; changes there are replayed to "
            + state.getSourceShardId() + " for " + config.gracePeriod().toSeconds() + " s");
    }

    private void grace() throws InterruptedException {
        RangeOps back = ops().reversed();
        Replay backward = new Replay(plane, back, state.getTargetShardId(), state.getNamespace(), state.getMigrationId());
        long ends = state.getCutOverAt().toEpochMilli() + config.gracePeriod().toMillis();
        try (CdcTail tail = new CdcTail(plane.bootstrapServers(), TopicCatalog.cdcTopic(state.getTargetShardId(), state.getNamespace()),
            state.getReverseReplayOffset())) {
            while (System.currentTimeMillis() < ends) {
                plane.ownership().check();
                refreshRequests();
                if (state.getRollbackRequested()) {
                    rollBackAfterCutover(tail, backward);
                    return;
                }
                requireCutOverHere("the replay back to " + state.getSourceShardId());
                backward.apply(tail, new java.util.HashSet<>(), Duration.ofMillis(200));
                state.setReverseReplayOffset(tail.position());
                progress();
            }
        }
        requireCutOverHere("the deletion of the range from " + state.getSourceShardId());
        requireNotOwnedBy(state.getSourceShardId());
        recordRelease();
        long deleted = ops().deleteFromSource(config.deleteBatchSize(), 10, () -> requireNotOwnedBy(state.getSourceShardId()));
        plane.deletions(state.getSourceShardId()).remove(state.getMigrationId(), RangeDeletions.Side.SOURCE);
        inOneTransaction(() -> {
            ChunkRoute route = route();
            if (state.getMigrationId().equals(route.getMigrationId())) {
                plane.publishRoute(next(route).setMigrationId(null).build());
            }
            transition(MigrationPhase.CLEANED, "grace period over: " + deleted + " documents of the range deleted from " + state.getSourceShardId());
        });
    }

    /** The route still names the target under this migration: otherwise the range moved on, and this migration stalls. */
    private void requireCutOverHere(String what) {
        ChunkRoute route = route();
        if (!route.getShardId().equals(state.getTargetShardId()) || !state.getMigrationId().equals(route.getMigrationId())) {
            throw stall(what + " stopped: the chunk is now on " + route.getShardId() + " (" + route.getState() + ", migration "
                + route.getMigrationId() + "), not on " + state.getTargetShardId() + " under this migration");
        }
    }

    /**
     * Re-reads the routing before a batch of a deletion from {@code shardId}: refused (the migration stalls) while the
     * shard owns any chunk overlapping the range, which a deletion there would destroy.
     */
    private void requireNotOwnedBy(String shardId) {
        String min = Hex.of(state.getChunkMin());
        String max = Hex.of(state.getChunkMax());
        Map<String, MigrationState> migrations = null;
        for (ChunkRoute route : plane.routing().values().values()) {
            if (!route.getNamespace().equals(state.getNamespace())) {
                continue;
            }
            String routeMin = Hex.of(route.getMin());
            String routeMax = Hex.of(route.getMax());
            boolean overlaps = (max == null || routeMin.compareTo(max) < 0) && (routeMax == null || routeMax.compareTo(min) > 0);
            if (overlaps && route.getMigrationId() != null && !route.getMigrationId().equals(state.getMigrationId())) {
                migrations = migrations == null ? plane.migrations().values() : migrations;
                MigrationState bringing = migrations.get(route.getMigrationId());
                if (bringing != null && !ended(bringing) && bringing.getTargetShardId().equals(shardId)) {
                    throw stall("deleting [" + min + ", " + (max == null ? "+inf" : max) + ") from " + shardId + " refused: migration "
                        + bringing.getMigrationId() + " is bringing the chunk [" + routeMin + ", " + (routeMax == null ? "+inf" : routeMax) + ") back to it");
                }
            }
            if (overlaps && route.getShardId().equals(shardId)) {
                throw stall("deleting [" + min + ", " + (max == null ? "+inf" : max) + ") from " + shardId + " refused: " + shardId + " owns the chunk ["
                    + routeMin + ", " + (routeMax == null ? "+inf" : routeMax) + ") (" + route.getState() + ", version " + route.getVersion()
                    + ", migration " + route.getMigrationId() + ")");
            }
        }
    }

    private Stalled stall(String why) {
        LOG.warn("migration {} stalls: {}", state.getMigrationId(), why);
        if (!why.equals(state.getError())) {
            state.setError(why);
            inOneTransaction(() -> {
                plane.publishMigration(state);
                plane.event(ShardEventType.MIGRATION_STALLED, state.getSourceShardId(), state.getNamespace(), state.getMigrationId(),
                    state.getCommandId(), null, why, Map.of());
            });
        }
        return new Stalled(why);
    }

    /**
     * Before the source loses the range: a record there that names the routing version which moved it, so a router
     * reading the range from the source with routing older than that refreshes instead of trusting what it read. The
     * version is the position after the chunk's latest route (the cutover or later), which every router at or past it
     * has applied.
     */
    private void recordRelease() {
        String key = TopicCatalog.routingKey(state.getNamespace(), Hex.of(state.getChunkMin()));
        var entry = plane.routing().entry(key);
        if (entry == null) {
            throw new IllegalStateException("chunk " + Hex.of(state.getChunkMin()) + " of " + state.getNamespace() + " is not in the routing");
        }
        plane.recordRelease(state.getSourceShardId(), new RangeRelease(state.getNamespace(),
            KeyRange.ofEncoded(state.getChunkMin(), state.getChunkMax()), state.getTargetShardId(), state.getMigrationId(), entry.offset() + 1));
    }

    /** A rollback after the cutover: the same fence on the target, a drain back to the source, the chunk returned. */
    private void rollBackAfterCutover(CdcTail tail, Replay backward) throws InterruptedException {
        ChunkRoute route = route();
        if (route.getShardId().equals(state.getTargetShardId()) && !state.getMigrationId().equals(route.getMigrationId())) {
            throw stall("rollback refused: " + state.getTargetShardId() + " owns the chunk under migration " + route.getMigrationId());
        }
        if (route.getShardId().equals(state.getTargetShardId())) {
            plane.ownership().check();
            plane.deletions(state.getTargetShardId()).record(new RangeDeletions.Task(state.getMigrationId(), RangeDeletions.Side.TARGET,
                state.getNamespace(), Hex.of(state.getChunkMin()), Hex.of(state.getChunkMax())));
            long offset = plane.publishRoute(next(route).setState(ChunkState.FENCED).build());
            String missing = awaitAcks(offset, config.ackTimeout(), null);
            if (missing != null) {
                plane.publishRoute(next(route()).setState(ChunkState.ACTIVE).build());
                plane.event(ShardEventType.FENCE_TIMEOUT, state.getTargetShardId(), state.getNamespace(), state.getMigrationId(),
                    state.getCommandId(), null, "rollback fence not acknowledged by " + missing + "; retrying", Map.of());
                Thread.sleep(config.fenceRetryBackoff().toMillis());
                return;
            }
            String marker = MARKER_PREFIX + state.getMigrationId() + ":rollback";
            if (!backward.drainTo(tail, marker, System.currentTimeMillis() + config.maxFenceHold().toMillis(), null)) {
                plane.publishRoute(next(route()).setState(ChunkState.ACTIVE).build());
                Thread.sleep(config.fenceRetryBackoff().toMillis());
                return;
            }
            plane.publishRoute(next(route()).setShardId(state.getSourceShardId()).setState(ChunkState.ACTIVE).setMigrationId(null).build());
        }
        long deleted = ops().deleteFromTarget(config.deleteBatchSize(), 0, () -> requireNotOwnedBy(state.getTargetShardId()));
        plane.deletions(state.getTargetShardId()).remove(state.getMigrationId(), RangeDeletions.Side.TARGET);
        plane.deletions(state.getSourceShardId()).remove(state.getMigrationId(), RangeDeletions.Side.SOURCE);
        transition(MigrationPhase.ROLLED_BACK, state.getSourceShardId() + " owns the range again; " + deleted
            + " documents removed from " + state.getTargetShardId());
    }

    private void giveUpBeforeCutover(MigrationPhase end, String why) throws InterruptedException {
        ChunkRoute route = route();
        if (route.getShardId().equals(state.getTargetShardId()) && state.getMigrationId().equals(route.getMigrationId())) {
            // Cut over before the last state was published: the target owns the range and may hold new writes.
            state.setCutOverAt(state.getCutOverAt() == null ? Instant.now() : state.getCutOverAt());
            transition(MigrationPhase.CUT_OVER, "found cut over already; " + (state.getRollbackRequested()
                ? "rolling back from there" : "an abort is too late, the migration goes on"));
            state.setAbortRequested(false);
            return;
        }
        // Recorded before the chunk is released: a migration into the target planned from then on waits for this deletion.
        plane.ownership().check();
        plane.deletions(state.getTargetShardId()).record(new RangeDeletions.Task(state.getMigrationId(), RangeDeletions.Side.TARGET,
            state.getNamespace(), Hex.of(state.getChunkMin()), Hex.of(state.getChunkMax())));
        if (route.getShardId().equals(state.getSourceShardId()) && state.getMigrationId().equals(route.getMigrationId())) {
            plane.publishRoute(next(route).setState(ChunkState.ACTIVE).setMigrationId(null).build());
        }
        long deleted = ops().deleteFromTarget(config.deleteBatchSize(), 0, () -> requireNotOwnedBy(state.getTargetShardId()));
        plane.deletions(state.getTargetShardId()).remove(state.getMigrationId(), RangeDeletions.Side.TARGET);
        plane.deletions(state.getSourceShardId()).remove(state.getMigrationId(), RangeDeletions.Side.SOURCE);
        transition(end, why + "; " + deleted + " copied documents removed from " + state.getTargetShardId());
    }

    // ------------------------------------------------------------------ helpers

    private ChunkRoute route() {
        ChunkRoute route = plane.routing().get(TopicCatalog.routingKey(state.getNamespace(), Hex.of(state.getChunkMin())));
        if (route == null) {
            throw new IllegalStateException("chunk " + Hex.of(state.getChunkMin()) + " of " + state.getNamespace() + " is not in the routing");
        }
        return route;
    }

    private static ChunkRoute.Builder next(ChunkRoute route) {
        return ChunkRoute.newBuilder(route).setVersion(route.getVersion() + 1);
    }

    private RangeOps ops() {
        return new RangeOps(plane.collection(state.getSourceShardId(), state.getNamespace()),
            plane.collection(state.getTargetShardId(), state.getNamespace()), Hex.of(state.getChunkMin()), Hex.of(state.getChunkMax()),
            plane.ownership()::check);
    }

    private void progress() {
        long now = System.currentTimeMillis();
        if (now - lastProgress >= config.progressInterval().toMillis()) {
            lastProgress = now;
            state.setUpdatedAt(Instant.ofEpochMilli(now));
            plane.publishMigration(state);
            Map<String, Double> figures = new HashMap<>();
            figures.put("copiedDocs", (double) state.getCopiedDocs());
            figures.put("totalDocs", (double) state.getTotalDocs());
            figures.put("copiedBytes", (double) state.getCopiedBytes());
            figures.put("replayLagEvents", (double) state.getReplayLagEvents());
            plane.event(ShardEventType.MIGRATION_PROGRESS, state.getSourceShardId(), state.getNamespace(), state.getMigrationId(),
                state.getCommandId(), null, state.getPhase() + ": " + state.getCopiedDocs() + "/" + state.getTotalDocs() + " copied", figures);
        }
    }

    private void transition(MigrationPhase phase, String why) {
        transitionSent(phase, why).await();
    }

    /** The sends of a transition, in flight. */
    private record Sent(List<java.util.concurrent.Future<?>> sends) {
        void await() {
            sends.forEach(ControlPlane::get);
        }
    }

    /**
     * Publishes a transition without waiting for the broker; the caller awaits it before any step that a resumed
     * worker would need it for. Sends of one migration's states keep their order (one partition, one producer).
     */
    private Sent transitionSent(MigrationPhase phase, String why) {
        MigrationPhase from = state.getPhase();
        state.setPhase(phase);
        state.setUpdatedAt(Instant.now());
        java.util.concurrent.Future<?> published = plane.publishMigrationAsync(state);
        LOG.info("migration {} of {} [{}, {}): {} -> {}: {}", state.getMigrationId(), state.getNamespace(), Hex.of(state.getChunkMin()),
            Hex.of(state.getChunkMax()), from, phase, why);
        java.util.concurrent.Future<?> event = plane.eventAsync(phase == MigrationPhase.ABORTED ? ShardEventType.MIGRATION_FAILED
                : ShardEventType.MIGRATION_STATE_CHANGED, state.getSourceShardId(), state.getNamespace(), state.getMigrationId(),
            state.getCommandId(), null, from + " -> " + phase + ": " + why,
            Map.of("copiedDocs", (double) state.getCopiedDocs(), "totalDocs", (double) state.getTotalDocs()));
        unannounced.add(MigrationState.newBuilder(state).build());
        if (transactionDepth == 0) {
            announce();
        }
        return new Sent(List.of(published, event));
    }

    /** Runs {@code body} in one transaction of the control plane; the states it entered are announced once it committed. */
    private <T> T inOneTransaction(java.util.function.Supplier<T> body) {
        transactionDepth++;
        try {
            return plane.atomically(body);
        } catch (RuntimeException e) {
            unannounced.clear();
            throw e;
        } finally {
            transactionDepth--;
            if (transactionDepth == 0) {
                announce();
            }
        }
    }

    private void inOneTransaction(Runnable body) {
        inOneTransaction(() -> {
            body.run();
            return null;
        });
    }

    private void announce() {
        List<MigrationState> entered = List.copyOf(unannounced);
        unannounced.clear();
        entered.forEach(listener::step);
    }
}
