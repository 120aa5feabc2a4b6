package io.shardline.bench.model;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;
import io.shardline.worker.check.WriteLedger;

/**
 * One model sequence against a running cluster: a fresh namespace (hashed on {@code userId}, two chunks on s1) and
 * control plane (its own topic prefix and worker group), two worker processes and a router process to kill and pause,
 * writers through a router in this JVM over a small key space, each write recorded with its outcome. The steps run
 * one after another; then every process is resumed, one worker at least kept alive, and the run waits until every
 * command was carried out and every migration ended. What it then checks: the acknowledged writes against every shard
 * read directly (nothing lost, duplicated, resurrected or unknown), the routing covering the key space once, and
 * each migration's history (ended once, never published by an older term after a newer one or after its end).
 *
 * <p>This class runs the steps and settles; the control plane is {@link ModelControlPlane}'s, the processes
 * {@link ModelProcesses}', the writes {@link ModelWriters}', the checks {@link ModelChecks}'.
 */
final class ModelRun implements AutoCloseable {

    private static final Duration SETTLE_TIMEOUT = Duration.ofMinutes(4);
    private static final java.time.format.DateTimeFormatter CLOCK = java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS")
        .withZone(java.time.ZoneId.systemDefault());

    private final String id = UUID.randomUUID().toString().substring(0, 8);
    private final ModelControlPlane controlPlane;
    private final ShardRouter router;
    private final WriteLedger ledger = new WriteLedger();
    private final ModelProcesses processes;
    private final ModelWriters writers;
    private final ModelChecks checks;
    private final List<String> log = new ArrayList<>();

    ModelRun(EmbeddedCluster cluster, long seed, Path logDir) throws Exception {
        this.controlPlane = new ModelControlPlane(cluster, id);
        this.router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), controlPlane.catalog()).withFenceBudget(Duration.ofSeconds(5))
            .withSignalInterval(Duration.ofMillis(200)).withLeaseDuration(Duration.ofSeconds(3)), new SimpleMeterRegistry(), Duration.ofSeconds(60));
        this.processes = new ModelProcesses(cluster, controlPlane.catalog().prefix(), id, logDir);
        processes.startRouter();
        processes.startWorker();
        processes.startWorker();
        this.writers = new ModelWriters(router, controlPlane.namespace(), ledger);
        writers.start(seed);
        this.checks = new ModelChecks(cluster, controlPlane, ledger, this::note);
    }

    /** Runs the steps, settles and checks; the problems found (empty when none). */
    List<String> run(List<ModelStep> steps) throws Exception {
        Thread.sleep(1_000);
        for (ModelStep step : steps) {
            note("step " + step.describe() + ": " + apply(step));
            if (step.kind() != ModelStep.Kind.PAUSE_WORKER && step.kind() != ModelStep.Kind.PAUSE_ROUTER) {
                Thread.sleep(step.millis());
            }
        }
        List<String> problems = new ArrayList<>();
        String unsettled = settle();
        writers.stopAndJoin();
        if (unsettled != null) {
            problems.add(unsettled);
        }
        problems.addAll(checks.check());
        note("acknowledged writes " + writers.acknowledged() + ", failed (outcome unknown) " + writers.failed());
        return problems;
    }

    List<String> log() {
        return log;
    }

    /** Adds a line to the run's log, at its time (local time, as the processes log it). */
    private void note(String line) {
        log.add(CLOCK.format(java.time.Instant.now()) + " " + line);
    }

    private String apply(ModelStep step) throws Exception {
        return switch (step.kind()) {
            case MOVE -> controlPlane.move(step.index());
            case SPLIT -> controlPlane.split(step.index());
            case ROLLBACK, ABORT -> controlPlane.end(step.kind());
            case KILL_WORKER -> processes.killWorker(step.index());
            case START_WORKER -> processes.startAnotherWorker();
            case PAUSE_WORKER -> processes.pauseWorker(step.index(), step.millis());
            case PAUSE_ROUTER -> processes.pauseRouter(step.millis());
            case WAIT -> "waited";
        };
    }

    /** Resumes every paused process, keeps one worker alive, and waits until commands and migrations are all done. */
    private String settle() throws Exception {
        processes.resumeAll();
        if (processes.noWorkerAlive()) {
            note("settle: started pid " + processes.startWorker().pid() + " (no worker was alive)");
        }
        return controlPlane.awaitSettled(SETTLE_TIMEOUT);
    }

    @Override
    public void close() throws Exception {
        writers.stop();
        processes.close();
        router.close();
        controlPlane.close();
    }
}
