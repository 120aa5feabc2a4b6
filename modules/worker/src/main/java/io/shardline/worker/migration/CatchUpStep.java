package io.shardline.worker.migration;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.bson.BsonString;
import org.bson.BsonValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.worker.data.CdcTail;
import io.shardline.worker.data.RangeOps;
import io.shardline.worker.data.Replay;
import io.shardline.worker.data.ShardChangeStream;

/**
 * CATCHING_UP: replays the source's changes from the copy's watermark, and fences when {@link FencePolicy} says the
 * drain fits: a probe marker, written and drained without a fence, came back within the budget. The topic's lag does
 * not show what the connector has yet to publish; the probe measures the whole path. The source's own change stream,
 * opened before the marker is written, has every change the topic may not have once the marker came back: from there
 * on the replay reads the shard directly, and so does the fence ({@link FenceStep}).
 */
final class CatchUpStep {

    private static final Logger LOG = LoggerFactory.getLogger(CatchUpStep.class);
    /** Marks a pre-check that could not finish (too many differences in flight, or the drain timed out). */
    private static final BsonValue PRECHECK_INCOMPLETE = new BsonString("shardline:precheck-incomplete");
    private static final int PRECHECK_MISMATCH_LIMIT = 10_000;
    /** How often a catch-up that has not fenced yet says where it stands. */
    private static final long REPORT_EVERY_MILLIS = 10_000;

    private final MigrationContext migration;
    private final FenceStep fence;

    CatchUpStep(MigrationContext migration, FenceStep fence) {
        this.migration = migration;
        this.fence = fence;
    }

    void run() throws InterruptedException {
        MigrationState state = migration.state;
        RangeOps ops = migration.ops();
        Replay replay = new Replay(migration.plane, ops, state.getSourceShardId(), state.getNamespace(), state.getMigrationId());
        ChunkRoute current = migration.route();
        if (current.getState() == ChunkState.FENCED && migration.mine(current)) {
            // Fenced before the last state was published: lift it before catching up again.
            migration.plane.publishRoute(MigrationContext.next(current).setState(ChunkState.MIGRATING).build());
        }
        FencePolicy policy = migration.fencePolicy;
        long fenceBudget = migration.config.fenceBudget().toMillis();
        long hardBound = migration.config.maxFenceHold().toMillis();
        try (CdcTail tail = new CdcTail(migration.plane.bootstrapServers(), TopicCatalog.cdcTopic(state.getSourceShardId(), state.getNamespace()),
            state.getReplayOffset())) {
            Set<BsonValue> changedSincePreCheck = new LinkedHashSet<>();
            boolean preChecked = false;
            int preChecks = 0;
            int probes = 0;
            long startedAt = System.currentTimeMillis();
            long reportAt = startedAt + REPORT_EVERY_MILLIS;
            long appliedSinceReport = 0;
            int pollsSinceReport = 0;
            String lastProbe = "none";
            while (true) {
                migration.plane.ownership().check();
                migration.takeRequests();
                if (migration.giveUpRequested()) {
                    return;
                }
                long started = System.nanoTime();
                int applied = replay.apply(tail, changedSincePreCheck, Duration.ofMillis(100));
                policy.replayed(applied, (System.nanoTime() - started) / 1e9);
                appliedSinceReport += applied;
                pollsSinceReport++;
                long lag = tail.lag();
                state.setReplayOffset(tail.position());
                state.setReplayLagEvents(lag);
                state.setReplayLagMillis(policy.predictedMillis(lag));
                migration.listener.replayLag(state.getMigrationId(), lag, state.getReplayLagMillis());
                migration.progress();
                boolean large = state.getTotalDocs() > migration.config.verifyFullScanMaxDocs();
                long now = System.currentTimeMillis();
                FencePolicy.Next next = policy.next(lag, large, preChecked, now);
                if (now >= reportAt) {
                    LOG.info("migration {} still catching up after {} s: {} changes applied in {} polls since the last report, lag {} events "
                            + "at offset {}, predicted drain {} ms (budget {} ms), next: {}, {} pre-checks, last probe: {}", state.getMigrationId(),
                        (now - startedAt) / 1000, appliedSinceReport, pollsSinceReport, lag, tail.position(), policy.predictedMillis(lag),
                        fenceBudget, next, preChecks, lastProbe);
                    reportAt = now + REPORT_EVERY_MILLIS;
                    appliedSinceReport = 0;
                    pollsSinceReport = 0;
                }
                if (next == FencePolicy.Next.PRE_CHECK) {
                    // A large range is compared whole before the fence; while fenced only the keys changed since are rechecked.
                    String corrupted = preCheck(tail, ops, replay, changedSincePreCheck, ++preChecks);
                    LOG.debug("migration {}: pre-check {} {}", state.getMigrationId(), preChecks,
                        changedSincePreCheck.contains(PRECHECK_INCOMPLETE) ? "incomplete, to be repeated" : "done");
                    if (corrupted != null) {
                        migration.verificationFailed(corrupted);
                        new GiveUpStep(migration).beforeCutOver(MigrationPhase.ABORTED, "verification failed: " + corrupted);
                        return;
                    }
                    preChecked = !changedSincePreCheck.contains(PRECHECK_INCOMPLETE);
                    changedSincePreCheck.remove(PRECHECK_INCOMPLETE);
                } else if (next == FencePolicy.Next.PROBE) {
                    try (ShardChangeStream direct = ShardChangeStream.open(migration.plane.shardConnections().collection(state.getSourceShardId(), state.getNamespace()))) {
                        long probeStart = System.nanoTime();
                        String marker = MigrationContext.MARKER_PREFIX + state.getMigrationId() + ":probe:" + (++probes);
                        boolean drained = replay.drainTo(tail, marker, System.currentTimeMillis() + hardBound, changedSincePreCheck);
                        long probeMillis = (System.nanoTime() - probeStart) / 1_000_000;
                        state.setReplayOffset(tail.position());
                        boolean fenceNow = policy.fenceAfterProbe(drained, probeMillis, System.currentTimeMillis());
                        lastProbe = (drained ? "came back in " : "did not come back within ") + probeMillis + " ms";
                        LOG.debug("migration {}: probe {} {} in {} ms (lag {} events, budget {} ms); {}", state.getMigrationId(), probes,
                            drained ? "came back" : "did not come back", probeMillis, lag, fenceBudget, fenceNow ? "fencing" : "not fencing yet");
                        if (fenceNow && fence.attempt(direct, ops, replay, changedSincePreCheck, large, preChecked, probes)) {
                            return;
                        }
                    }
                }
            }
        }
    }

    /**
     * Compares the whole range before the fence: documents that differ and did not change on the source since the
     * comparison began (every such change is in once a marker written afterwards comes back) are corruption.
     * Returns what is corrupted, or null; adds {@link #PRECHECK_INCOMPLETE} to {@code changed} when it must be redone.
     */
    private String preCheck(CdcTail tail, RangeOps ops, Replay replay, Set<BsonValue> changed, int attempt) {
        changed.clear();
        List<BsonValue> mismatched = ops.mismatches(PRECHECK_MISMATCH_LIMIT);
        String marker = MigrationContext.MARKER_PREFIX + migration.state.getMigrationId() + ":precheck:" + attempt;
        if (mismatched.size() >= PRECHECK_MISMATCH_LIMIT
            || !replay.drainTo(tail, marker, System.currentTimeMillis() + 10 * migration.config.maxFenceHold().toMillis(), changed)) {
            changed.add(PRECHECK_INCOMPLETE);
            return null;
        }
        migration.state.setReplayOffset(tail.position());
        List<BsonValue> suspicious = mismatched.stream().filter(id -> !changed.contains(id) && !ops.sameOnBothSides(List.of(id))).toList();
        return suspicious.isEmpty() ? null
            : suspicious.size() + " documents differ on the target although the source did not change them (first: " + suspicious.get(0) + ")";
    }
}
