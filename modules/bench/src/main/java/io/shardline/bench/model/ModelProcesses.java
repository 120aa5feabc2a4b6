package io.shardline.bench.model;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.shardline.embedded.EmbeddedCluster;

/**
 * A run's processes to kill and pause: the worker processes and the router process, each a JVM of its own with its output
 * in the log directory. A pause is a SIGSTOP with a SIGCONT scheduled after it.
 */
final class ModelProcesses implements AutoCloseable {

    private final EmbeddedCluster cluster;
    private final String prefix;
    private final String id;
    private final Path logDir;
    private final List<Process> workers = new ArrayList<>();
    private final Map<Process, Long> pausedUntil = new ConcurrentHashMap<>();
    private final ScheduledExecutorService resumer = Executors.newSingleThreadScheduledExecutor();
    private Process router;

    /**
     * @param prefix the control plane's topic prefix
     * @param id     the run's id, in the processes' names and log files
     */
    ModelProcesses(EmbeddedCluster cluster, String prefix, String id, Path logDir) {
        this.cluster = cluster;
        this.prefix = prefix;
        this.id = id;
        this.logDir = logDir;
    }

    /** Starts the router process and waits until it serves. */
    void startRouter() throws Exception {
        this.router = start(RouterProcessMain.class, "router", "2000");
        awaitLine(router, "ROUTER_URL=");
    }

    Process startWorker() throws Exception {
        Process worker = start(WorkerProcessMain.class, "w" + workers.size(), "4000");
        workers.add(worker);
        return worker;
    }

    /** Starts a worker unless three are alive; what happened. */
    String startAnotherWorker() throws Exception {
        return workers.stream().filter(Process::isAlive).count() >= 3 ? "three workers run already" : "started pid " + startWorker().pid();
    }

    /** SIGKILL of the live worker at {@code index}; what happened. */
    String killWorker(int index) throws InterruptedException {
        List<Process> alive = workers.stream().filter(Process::isAlive).toList();
        if (alive.isEmpty()) {
            return "no worker to kill";
        }
        Process doomed = alive.get(index % alive.size());
        doomed.destroyForcibly().waitFor();
        pausedUntil.remove(doomed);
        return "killed pid " + doomed.pid();
    }

    /** Pauses the running (alive, not paused) worker at {@code index}; what happened. */
    String pauseWorker(int index, long millis) throws Exception {
        List<Process> running = workers.stream().filter(p -> p.isAlive() && !pausedUntil.containsKey(p)).toList();
        if (running.isEmpty()) {
            return "no running worker to pause";
        }
        return pause(running.get(index % running.size()), millis);
    }

    /** Pauses the router process unless it is paused; what happened. */
    String pauseRouter(long millis) throws Exception {
        return pausedUntil.containsKey(router) ? "router paused already" : pause(router, millis);
    }

    /** Resumes every paused process now. */
    void resumeAll() {
        for (Process process : List.copyOf(pausedUntil.keySet())) {
            pausedUntil.remove(process);
            signalQuietly(process, "CONT");
        }
    }

    boolean noWorkerAlive() {
        return workers.stream().noneMatch(Process::isAlive);
    }

    private String pause(Process process, long millis) throws Exception {
        signal(process, "STOP");
        pausedUntil.put(process, System.currentTimeMillis() + millis);
        resumer.schedule(() -> {
            if (pausedUntil.remove(process) != null) {
                signalQuietly(process, "CONT");
            }
        }, millis, TimeUnit.MILLISECONDS);
        return "paused pid " + process.pid() + " for " + millis + " ms";
    }

    private Process start(Class<?> main, String name, String extra) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
            "-cp", System.getProperty("java.class.path"), main.getName(), cluster.bootstrapServers(), cluster.schemaRegistryUrl(), prefix,
            name + "-" + id, extra);
        builder.redirectErrorStream(true);
        builder.redirectOutput(ProcessBuilder.Redirect.appendTo(new File(logDir.toFile(), "model-" + id + "-" + name + ".log")));
        return builder.start();
    }

    private void awaitLine(Process process, String linePrefix) throws Exception {
        File file = new File(logDir.toFile(), "model-" + id + "-router.log");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && process.isAlive()) {
            if (file.exists() && Files.readAllLines(file.toPath()).stream().anyMatch(line -> line.startsWith(linePrefix))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the router process did not start; see " + file);
    }

    private static void signal(Process process, String signal) throws Exception {
        int exit = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start().waitFor();
        if (exit != 0 && process.isAlive()) {
            throw new IllegalStateException("kill -" + signal + " " + process.pid() + " exited " + exit);
        }
    }

    private static void signalQuietly(Process process, String signal) {
        try {
            if (process.isAlive()) {
                signal(process, signal);
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not send SIG" + signal + " to " + process.pid(), e);
        }
    }

    /** Stops the resumer, then resumes and kills every process. */
    @Override
    public void close() throws InterruptedException {
        resumer.shutdownNow();
        for (Process process : workers) {
            signalQuietly(process, "CONT");
            process.destroyForcibly().waitFor();
        }
        if (router != null) {
            signalQuietly(router, "CONT");
            router.destroyForcibly().waitFor();
        }
    }
}
