package io.shardline.worker;

import java.time.Duration;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.worker.config.WorkerConfig;

/**
 * A worker process for the crash matrix: it carries out commands like any worker, but when a migration is about to
 * step from the given state it prints {@code PAUSED <state>} and stops moving, so the test can kill it there with
 * SIGKILL.
 *
 * <p>Arguments: bootstrap servers, registry URL, topic prefix, worker group, state to pause in (or {@code NONE}), and
 * optionally the grace period in milliseconds and the worker id. It prints {@code STARTED} once running.
 */
public final class PausingWorkerMain {

    private PausingWorkerMain() {
    }

    public static void main(String[] args) throws Exception {
        TopicCatalog catalog = new TopicCatalog(args[2], new RegistrySerdes(args[1]));
        MigrationPhase pauseIn = args[4].equals("NONE") ? null : MigrationPhase.valueOf(args[4]);
        WorkerConfig config = MigrationFixture.workerConfig(args[0], catalog, args[3]).withWorkerId(args.length > 6 ? args[6] : "doomed");
        if (args.length > 5) {
            config = config.withGracePeriod(Duration.ofMillis(Long.parseLong(args[5])));
        }
        MigrationWorker.start(config, new SimpleMeterRegistry(), state -> {
            if (state.getPhase() == pauseIn) {
                System.out.println("PAUSED " + pauseIn);
                System.out.flush();
                try {
                    Thread.sleep(Duration.ofHours(1).toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        System.out.println("STARTED");
        System.out.flush();
        Thread.sleep(Duration.ofHours(1).toMillis());
    }
}
