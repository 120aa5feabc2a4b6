package io.shardline.worker.migration;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Future;
import java.util.function.Supplier;

import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.mongodb.MongoException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;

import io.shardline.backup.ChangeRecord;

import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.RouterAck;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardHealth;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.worker.config.WorkerConfig;
import io.shardline.worker.data.RangeOps;
import io.shardline.worker.plane.ControlPlane;
import io.shardline.worker.plane.Ownership;
import io.shardline.core.key.KeyHex;

/**
 * What the steps of one migration share: its state (owned by the {@link Migration} that runs it), the control plane,
 * the settings, and the ways a step reads the chunk's route, publishes a transition (alone or inside one transaction
 * with routes), reports progress, and takes in the requests (abort, rollback) sent to the migration while it runs.
 */
final class MigrationContext {

    private static final Logger LOG = LoggerFactory.getLogger(Migration.class);
    static final String MARKER_PREFIX = "shardline:marker:";
    /** How often a cutover looks whether the target's standby has its marker. */
    private static final long STANDBY_POLL_MILLIS = 5;

    final ControlPlane plane;
    final WorkerConfig config;
    final MigrationListener listener;
    final MigrationState state;
    /** Shared by the catch-up and the fence: its back-off outlives one attempt. */
    final FencePolicy fencePolicy;
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    /** States entered inside the current transaction: the listener hears of them once it committed. */
    private final List<MigrationState> unannounced = new ArrayList<>();
    private int transactionDepth;
    private long lastProgress;

    /** An abort or a rollback sent to the running migration; completed once a published state carries it. */
    record Request(boolean abort, CompletableFuture<Void> persisted) {
    }

    MigrationContext(ControlPlane plane, WorkerConfig config, MigrationListener listener, MigrationState state) {
        this.plane = plane;
        this.config = config;
        this.listener = listener;
        this.state = MigrationState.newBuilder(state).build();
        this.fencePolicy = new FencePolicy(config.fenceBudget(), config.maxFenceHold(), config.fenceRetryBackoff());
    }

    // ------------------------------------------------------------------ requests

    CompletableFuture<Void> request(boolean abort) {
        Request request = new Request(abort, new CompletableFuture<>());
        requests.add(request);
        return request.persisted();
    }

    /** Takes in the requests sent since the last look: the state carries them from now on, published before they are confirmed. */
    void takeRequests() {
        List<Request> taken = new ArrayList<>();
        for (Request request = requests.poll(); request != null; request = requests.poll()) {
            taken.add(request);
        }
        if (taken.isEmpty()) {
            return;
        }
        for (Request request : taken) {
            state.setAbortRequested(state.getAbortRequested() || request.abort());
            state.setRollbackRequested(state.getRollbackRequested() || !request.abort());
        }
        state.setUpdatedAt(Instant.now());
        plane.publishMigration(state);
        taken.forEach(request -> request.persisted().complete(null));
    }

    /** Requests still waiting when the run stops: they fail, and the caller publishes them on the migration's state itself. */
    void failRequests(Throwable why) {
        for (Request request = requests.poll(); request != null; request = requests.poll()) {
            request.persisted().completeExceptionally(why);
        }
    }

    boolean giveUpRequested() {
        return state.getAbortRequested() || state.getRollbackRequested();
    }

    // ------------------------------------------------------------------ routing

    ChunkRoute route() {
        ChunkRoute route = plane.routing().get(TopicCatalog.routingKey(state.getNamespace(), KeyHex.of(state.getChunkMin())));
        if (route == null) {
            throw new IllegalStateException("chunk " + KeyHex.of(state.getChunkMin()) + " of " + state.getNamespace() + " is not in the routing");
        }
        return route;
    }

    static ChunkRoute.Builder next(ChunkRoute route) {
        return ChunkRoute.newBuilder(route).setVersion(route.getVersion() + 1);
    }

    boolean mine(ChunkRoute route) {
        return state.getMigrationId().equals(route.getMigrationId());
    }

    RangeOps ops() {
        return new RangeOps(plane.shardConnections().collection(state.getSourceShardId(), state.getNamespace()),
            plane.shardConnections().collection(state.getTargetShardId(), state.getNamespace()), KeyHex.of(state.getChunkMin()), KeyHex.of(state.getChunkMax()),
            plane.ownership()::check);
    }

    String range() {
        String max = KeyHex.of(state.getChunkMax());
        return "[" + KeyHex.of(state.getChunkMin()) + ", " + (max == null ? "+inf" : max) + ")";
    }

    /**
     * Waits for every router with a live lease to acknowledge a routing version above the offset; null when all did,
     * else the routers missing.
     *
     * @param whileWaiting what to do between looks at the acks (a few milliseconds of work), or null to sleep 5 ms
     */
    String awaitAcks(long offset, Duration timeout, Runnable whileWaiting) throws InterruptedException {
        long started = System.currentTimeMillis();
        long deadline = started + timeout.toMillis();
        String missing = "";
        while (System.currentTimeMillis() < deadline) {
            plane.ownership().check();
            missing = "";
            long now = System.currentTimeMillis();
            Collection<RouterAck> acks = plane.acks().values().values();
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

    // ------------------------------------------------------------------ publishing

    /** Publishes the state (and a progress event) at most once per progress interval. */
    void progress() {
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

    void transition(MigrationPhase phase, String why) {
        transitionSent(phase, why).await();
    }

    /** The sends of a transition, in flight. */
    record Sent(List<Future<?>> sends) {
        void await() {
            sends.forEach(ControlPlane::get);
        }
    }

    /**
     * Publishes a transition without waiting for the broker; the caller awaits it before any step that a resumed
     * worker would need it for. Sends of one migration's states keep their order (one partition, one producer).
     */
    Sent transitionSent(MigrationPhase phase, String why) {
        MigrationPhase from = state.getPhase();
        state.setPhase(phase);
        state.setUpdatedAt(Instant.now());
        Future<?> published = plane.publishMigrationAsync(state);
        LOG.info("migration {} of {} {}: {} -> {}: {}", state.getMigrationId(), state.getNamespace(), range(), from, phase, why);
        Future<?> event = plane.eventAsync(phase == MigrationPhase.ABORTED ? ShardEventType.MIGRATION_FAILED
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
    <T> T inOneTransaction(Supplier<T> body) {
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

    void inOneTransaction(Runnable body) {
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

    /** A failure of verification: an event, and the run gives up before the cutover with the source authoritative. */
    void verificationFailed(String what) {
        plane.event(ShardEventType.MIGRATION_FAILED, state.getSourceShardId(), state.getNamespace(), state.getMigrationId(),
            state.getCommandId(), null, "verification failed, the source stays authoritative: " + what, Map.of());
        state.setError("verification failed: " + what);
    }

    /**
     * A step failed while this migration's fence held writes: the fence is lifted at once ({@code to}: MIGRATING
     * before the cutover, ACTIVE on the target after it) rather than when the retry comes, so that writes wait no
     * longer than the fence's bound. Nothing is published once the term has ended (the next owner takes over).
     */
    void liftFenceAfter(RuntimeException failed, ChunkState to) {
        if (failed instanceof Ownership.Lost) {
            return;
        }
        try {
            ChunkRoute route = route();
            if (route.getState() == ChunkState.FENCED && mine(route)) {
                plane.publishRoute(next(route).setState(to).build());
                LOG.warn("migration {}: the fence was lifted after a failure: {}", state.getMigrationId(), failed.toString());
            }
        } catch (RuntimeException liftFailed) {
            failed.addSuppressed(liftFailed);
        }
    }

    // ------------------------------------------------------------------ invariants

    /**
     * When the target failed over since this migration began copying to it (or last copied anew), or {@code null}: the
     * target's descriptor's {@code failedOverAt}, later than the migration's start and than the failover the copy was
     * already made again for.
     */
    Instant targetFailedOverSinceCopy() {
        ShardDescriptor target = plane.shards().get(state.getTargetShardId());
        Instant failedOver = target == null ? null : target.getFailedOverAt();
        Instant since = state.getTargetFailedOverAt() != null ? state.getTargetFailedOverAt() : state.getStartedAt();
        return failedOver != null && failedOver.isAfter(since) ? failedOver : null;
    }

    /** True when the target has a standby, which a cutover waits for ({@link #awaitTargetStandby}). */
    boolean targetHasStandby() {
        ShardDescriptor target = plane.shards().get(state.getTargetShardId());
        return target != null && target.getStandbyConnectionString() != null;
    }

    /**
     * Null once the target's standby, if it has one, holds everything written to the namespace on the target so far;
     * else why not by {@code deadlineMillis}. A marker written on the target must show on the standby, whose sink applies
     * a namespace's changes in order. A cutover waits for it: a failover of the target right after it then loses
     * nothing this migration wrote there (its CDC connector may not have captured the last writes yet).
     */
    String awaitTargetStandby(long deadlineMillis) throws InterruptedException {
        String target = state.getTargetShardId();
        MongoCollection<RawBsonDocument> standby = plane.shardConnections().standbyCollection(target, state.getNamespace());
        if (standby == null) {
            return null;
        }
        MongoCollection<RawBsonDocument> written = plane.shardConnections().collection(target, state.getNamespace());
        plane.ownership().check();
        BsonString markerId = new BsonString(MARKER_PREFIX + state.getMigrationId() + ":standby@" + java.util.UUID.randomUUID().toString().substring(0, 8));
        written.insertOne(RawBsonDocument.parse(new BsonDocument("_id", markerId).append(ChangeRecord.MARKER_FIELD, new BsonString(state.getMigrationId()))
            .toJson()));
        try {
            while (System.currentTimeMillis() < deadlineMillis) {
                if (standby.find(Filters.eq("_id", markerId)).first() != null) {
                    return null;
                }
                Thread.sleep(STANDBY_POLL_MILLIS);
            }
            return "the standby of " + target + " had not applied what the migration wrote there by the fence's hard bound";
        } catch (MongoException unreachable) {
            return "the standby of " + target + " could not be read: " + unreachable.getMessage();
        } finally {
            written.deleteOne(Filters.eq("_id", markerId));
        }
    }

    /** Parks the migration: a {@code MIGRATION_STALLED} event says why (once per reason), and the worker looks again later. */
    Stalled stall(String why) {
        return stall(why, null);
    }

    /**
     * Source and target are not DOWN: a migration with a shard that stopped answering waits (stalled, looked at again
     * every few probe intervals) instead of failing against it over and over; it goes on from its state once the shard
     * is UP again.
     */
    void requireShardsUp() {
        for (String id : List.of(state.getSourceShardId(), state.getTargetShardId())) {
            ShardDescriptor shard = plane.shards().get(id);
            if (shard != null && shard.getHealth() == ShardHealth.DOWN) {
                throw stall("waiting in " + state.getPhase() + ": shard " + id + " is DOWN since " + shard.getHealthSince() + " ("
                    + shard.getHealthCause() + ")", config.health().interval().multipliedBy(4));
            }
        }
    }

    private Stalled stall(String why, Duration lookAgainAfter) {
        LOG.warn("migration {} stalls: {}", state.getMigrationId(), why);
        if (!why.equals(state.getError())) {
            state.setError(why);
            inOneTransaction(() -> {
                plane.publishMigration(state);
                plane.event(ShardEventType.MIGRATION_STALLED, state.getSourceShardId(), state.getNamespace(), state.getMigrationId(),
                    state.getCommandId(), null, why, Map.of());
            });
        }
        return new Stalled(why, lookAgainAfter);
    }

    /** The route still names the target under this migration: otherwise the range moved on, and this migration stalls. */
    void requireCutOverHere(String what) {
        ChunkRoute route = route();
        if (!route.getShardId().equals(state.getTargetShardId()) || !mine(route)) {
            throw stall(what + " stopped: the chunk is now on " + route.getShardId() + " (" + route.getState() + ", migration "
                + route.getMigrationId() + "), not on " + state.getTargetShardId() + " under this migration");
        }
    }

    /**
     * Re-reads the routing before a batch of a deletion from {@code shardId}: refused (the migration stalls) while the
     * shard owns any chunk overlapping the range, or another migration is bringing one back to it.
     */
    void requireNotOwnedBy(String shardId) {
        String min = KeyHex.of(state.getChunkMin());
        String max = KeyHex.of(state.getChunkMax());
        Map<String, MigrationState> migrations = null;
        for (ChunkRoute route : plane.routing().values().values()) {
            if (!route.getNamespace().equals(state.getNamespace())) {
                continue;
            }
            String routeMin = KeyHex.of(route.getMin());
            String routeMax = KeyHex.of(route.getMax());
            String chunk = "[" + routeMin + ", " + (routeMax == null ? "+inf" : routeMax) + ")";
            boolean overlaps = (max == null || routeMin.compareTo(max) < 0) && (routeMax == null || routeMax.compareTo(min) > 0);
            if (overlaps && route.getMigrationId() != null && !mine(route)) {
                migrations = migrations == null ? plane.migrations().values() : migrations;
                MigrationState bringing = migrations.get(route.getMigrationId());
                if (bringing != null && !MigrationPhases.ended(bringing) && bringing.getTargetShardId().equals(shardId)) {
                    throw stall("deleting " + range() + " from " + shardId + " refused: migration " + bringing.getMigrationId()
                        + " is bringing the chunk " + chunk + " back to it");
                }
            }
            if (overlaps && route.getShardId().equals(shardId)) {
                throw stall("deleting " + range() + " from " + shardId + " refused: " + shardId + " owns the chunk " + chunk + " ("
                    + route.getState() + ", version " + route.getVersion() + ", migration " + route.getMigrationId() + ")");
            }
        }
    }
}
