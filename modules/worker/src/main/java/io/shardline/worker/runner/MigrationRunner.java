package io.shardline.worker.runner;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.worker.config.WorkerConfig;
import io.shardline.worker.migration.Migration;
import io.shardline.worker.migration.MigrationListener;
import io.shardline.worker.migration.Stalled;
import io.shardline.worker.plane.Backoff;
import io.shardline.worker.plane.ControlPlane;
import io.shardline.worker.plane.Ownership;

/**
 * Carries out the migrations of the term this worker holds: one runner thread takes them from a queue one after
 * another up to their cutover, and each grace period then goes on beside it on a thread of its own with the same
 * {@link Migration} object. A migration runs in one place at a time. A run stopped by the end of the term is left to
 * the next owner; a stalled one is looked at again after {@link #STALL_RETRY}; a failed one is retried from its last
 * published state after a back-off that doubles per failure up to {@link #MAX_FAILURE_BACKOFF}.
 */
public final class MigrationRunner implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(MigrationRunner.class);
    /** How long a stalled migration waits before it is looked at again. */
    static final Duration STALL_RETRY = Duration.ofSeconds(30);
    static final Duration FIRST_FAILURE_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_FAILURE_BACKOFF = Duration.ofSeconds(30);
    /** How long a migration may wait for its lease before it is queued again. */
    private final Duration leaseWait;

    private final ControlPlane plane;
    private final int lane;
    private final WorkerConfig config;
    private final MigrationListener listener;
    private final Ownership ownership;
    private final BlockingQueue<String> queue = new LinkedBlockingQueue<>();
    /** Migrations this worker is carrying out: the runner's, and those in their grace period. */
    private final Map<String, Migration> running = new ConcurrentHashMap<>();
    /** Aborts ({@code true}) and rollbacks published on the state of a migration not running here, for its next run. */
    private final Map<String, List<Boolean>> pendingRequests = new ConcurrentHashMap<>();
    /** Failures in a row per migration, counted within the phase they happened in (progress starts the count again). */
    private final Map<String, Failures> failures = new ConcurrentHashMap<>();

    private record Failures(MigrationPhase phase, int count) {
    }
    private final Object runLock = new Object();
    private final Thread runner;
    private final ExecutorService graces;
    private final ScheduledExecutorService later;
    private volatile boolean stopping;

    /**
     * @param lane the migration lane this runner carries out: the migrations admitted to it, on that lane's plane
     */
    public MigrationRunner(ControlPlane plane, WorkerConfig config, MigrationListener listener, Duration handOverWait, int lane) {
        this.plane = plane;
        this.lane = lane;
        this.config = config;
        this.listener = listener;
        this.ownership = plane.ownership();
        this.leaseWait = config.ownerLease().plus(handOverWait);
        this.runner = new Thread(this::runMigrations, "worker-runner-" + config.workerId() + "-lane-" + lane);
        AtomicLong graceThreads = new AtomicLong();
        this.graces = Executors.newCachedThreadPool(task -> new Thread(task, "worker-grace-" + config.workerId() + "-lane-" + lane + "-" + graceThreads.incrementAndGet()));
        this.later = Executors.newSingleThreadScheduledExecutor(task -> new Thread(task, "worker-retries-" + config.workerId() + "-lane-" + lane));
    }

    public void start() {
        runner.start();
    }

    public void submit(String migrationId) {
        queue.add(migrationId);
    }

    /** Forgets what was queued: the term ended, and the next owner resumes it. */
    public void clear() {
        queue.clear();
    }

    public boolean idle() {
        return running.isEmpty();
    }

    public String describeRunning() {
        return running.keySet().toString();
    }

    /** Queues every migration of this lane the migrations topic shows unfinished, oldest first, unless queued or running here. */
    public void resumeUnfinished() {
        plane.migrations().values().values().stream()
            .filter(m -> !MigrationPhases.ended(m) && m.getLane() == lane)
            .sorted(Comparator.comparing(MigrationState::getStartedAt))
            .forEach(m -> {
                if (!queue.contains(m.getMigrationId()) && !running.containsKey(m.getMigrationId())) {
                    LOG.info("worker {} resumes migration {} from {} in lane {}", config.workerId(), m.getMigrationId(), m.getPhase(), lane);
                    queue.add(m.getMigrationId());
                }
            });
    }

    /**
     * An abort or rollback of an unfinished migration: sent to it when it runs here (and returned once a published
     * state carries it), else published on its state, where a run takes it from, and kept for the next run here too
     * (the table that run starts from may not show the publication yet).
     */
    public void request(MigrationState migration, boolean abort) {
        CompletableFuture<Void> handed = null;
        synchronized (runLock) {
            Migration run = running.get(migration.getMigrationId());
            if (run != null) {
                handed = run.request(abort);
            } else {
                plane.publishMigration(MigrationState.newBuilder(migration).setAbortRequested(migration.getAbortRequested() || abort)
                    .setRollbackRequested(migration.getRollbackRequested() || !abort).setOwnerEpoch(ownership.term())
                    .setUpdatedAt(Instant.now()).build());
                pendingRequests.merge(migration.getMigrationId(), List.of(abort), (before, added) -> java.util.stream.Stream
                    .concat(before.stream(), added.stream()).toList());
            }
        }
        if (handed != null) {
            // Not under the run lock: the run that takes the request in may need it to end meanwhile.
            handed.orTimeout(60, TimeUnit.SECONDS).join();
        }
    }

    /** The runner thread: a failure outside any one migration (reading the migrations topic, say) is logged and waited out. */
    private void runMigrations() {
        int loopFailures = 0;
        while (!stopping) {
            try {
                if (!runNext()) {
                    return;
                }
                loopFailures = 0;
            } catch (RuntimeException e) {
                loopFailures++;
                Duration backoff = Backoff.exponential(FIRST_FAILURE_BACKOFF, MAX_FAILURE_BACKOFF, loopFailures);
                LOG.error("worker {} runner failed ({} in a row); it goes on in {} ms", config.workerId(), loopFailures, backoff.toMillis(), e);
                try {
                    Thread.sleep(backoff.toMillis());
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    /** Takes the next queued migration and runs it up to its cutover; false when the thread was interrupted. */
    private boolean runNext() {
        String migrationId;
        try {
            migrationId = queue.poll(200, TimeUnit.MILLISECONDS);
            if (migrationId == null) {
                return true;
            }
            if (!ownership.awaitValid(leaseWait)) {
                if (ownership.holdsTerm()) {
                    queue.add(migrationId); // the lease could not be renewed yet: try again
                }
                return true; // else the term ended: the next owner resumes the migration
            }
        } catch (InterruptedException e) {
            return false;
        }
        Migration migration;
        synchronized (runLock) {
            MigrationState state;
            try {
                state = plane.migrations().get(migrationId);
            } catch (RuntimeException unreadable) {
                queue.add(migrationId); // taken again once the migrations topic can be read
                throw unreadable;
            }
            if (state == null || MigrationPhases.ended(state) || state.getLane() != lane || running.containsKey(migrationId)) {
                return true; // ended, not this lane's, or already running here (its grace period, say): one run per migration
            }
            migration = new Migration(plane, config, listener, state);
            // Requests published while it was not running are given to the run as well: taken in, they are on its first state.
            pendingRequests.getOrDefault(migrationId, List.of()).forEach(migration::request);
            pendingRequests.remove(migrationId);
            running.put(migrationId, migration);
        }
        return carry(migration, false);
    }

    /**
     * Runs a migration up to its cutover (then hands it to a grace thread) or, on a grace thread, to its end; false
     * when the thread was interrupted.
     */
    private boolean carry(Migration migration, boolean toEnd) {
        String migrationId = migration.id();
        boolean inGrace = false;
        boolean retry = false;
        try {
            MigrationState reached = toEnd ? migration.runToEnd() : migration.runUntilCutOver();
            failures.remove(migrationId);
            if (MigrationPhases.ended(reached)) {
                Retirement.retireIfEmpty(plane, reached.getSourceShardId(), migrationId);
            }
            if (reached.getPhase() == MigrationPhase.CUT_OVER) {
                graces.execute(() -> graceOf(migration));
                inGrace = true;
            } else {
                LOG.info("migration {} ended {}", migrationId, reached.getPhase());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Ownership.Lost lost) {
            LOG.info("migration {} stops in {}: {}", migrationId, migration.state().getPhase(), lost.getMessage());
            retry = ownership.holdsTerm(); // stopped by a term that ended while this worker began another
        } catch (Stalled stalled) {
            retryLater(migrationId, stalled.lookAgainAfter().orElse(STALL_RETRY));
        } catch (RuntimeException e) {
            if (!stoppedByTermEnd(migrationId, e)) {
                retryLater(migrationId, failed(migration.state(), e));
            }
        } catch (Error e) {
            // Not a failure of the migration's steps: logged here, where the thread would otherwise end unseen.
            LOG.error("migration {} stopped by an error; it is retried from its last state", migrationId, e);
            retryLater(migrationId, MAX_FAILURE_BACKOFF);
            throw e;
        } finally {
            if (!inGrace) {
                synchronized (runLock) {
                    running.remove(migrationId);
                    migration.stopped(new IllegalStateException("migration " + migrationId + " stopped running here"));
                }
            }
        }
        if (retry && !stopping && ownership.holdsTerm()) {
            queue.add(migrationId);
        }
        return true;
    }

    /** The grace period of a migration that cut over, on a grace thread. */
    private void graceOf(Migration migration) {
        try {
            carry(migration, true);
        } catch (RuntimeException e) {
            // A failure of the runner's own bookkeeping (not of a step, which carry handles): the migration is looked at again.
            LOG.error("the grace period of migration {} failed; it is retried from its last state", migration.id(), e);
            synchronized (runLock) {
                running.remove(migration.id());
            }
            retryLater(migration.id(), MAX_FAILURE_BACKOFF);
        }
    }

    /** True (and logged) when a failure comes from the end of this worker's term, wrapped by a step: not a failure of the migration. */
    private static boolean stoppedByTermEnd(String migrationId, Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof Ownership.Lost lost) {
                LOG.info("migration {} stops: {}", migrationId, lost.getMessage());
                return true;
            }
        }
        return false;
    }

    /** A migration is looked at again after a while, if this worker still holds the same term then. */
    private void retryLater(String migrationId, Duration after) {
        long term = ownership.term();
        later.schedule(() -> {
            if (!stopping && ownership.term() == term && ownership.holdsTerm() && !queue.contains(migrationId)) {
                queue.add(migrationId);
            }
        }, after.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Reports a failed step; returns the back-off before the retry, doubled per failure in a row of this migration in
     * the same phase (a migration that moved on since its last failure starts again from the first back-off).
     */
    private Duration failed(MigrationState state, RuntimeException e) {
        Failures now = failures.merge(state.getMigrationId(), new Failures(state.getPhase(), 1),
            (before, first) -> before.phase() == first.phase() ? new Failures(before.phase(), before.count() + 1) : first);
        Duration backoff = Backoff.exponential(FIRST_FAILURE_BACKOFF, MAX_FAILURE_BACKOFF, now.count());
        LOG.error("migration {} failed in {} ({} in a row); it is retried from its last state in {} ms", state.getMigrationId(), state.getPhase(),
            now.count(), backoff.toMillis(), e);
        try {
            plane.event(ShardEventType.MIGRATION_FAILED, state.getSourceShardId(), state.getNamespace(), state.getMigrationId(), state.getCommandId(),
                null, "step failed, retried from the last state: " + e.getMessage(), Map.of("failures", (double) now.count()));
        } catch (RuntimeException notPublished) {
            LOG.warn("migration {}: the failure event could not be published: {}", state.getMigrationId(), notPublished.toString());
        }
        return backoff;
    }

    @Override
    public void close() {
        stopping = true;
        later.shutdownNow();
        runner.interrupt();
        graces.shutdownNow();
        try {
            runner.join(10_000);
            graces.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
