package io.shardline.bench.model;

import java.time.Duration;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.worker.MigrationWorker;
import io.shardline.worker.config.WorkerConfig;

/**
 * A worker in its own JVM, for the model's kills and pauses. Arguments: bootstrap servers, registry URL, topic prefix,
 * worker id, grace period in milliseconds.
 */
public final class WorkerProcessMain {

    private WorkerProcessMain() {
    }

    public static void main(String[] args) throws Exception {
        TopicCatalog catalog = new TopicCatalog(args[2], new RegistrySerdes(args[1]));
        WorkerConfig config = WorkerConfig.defaults(args[0], catalog).withWorkerId(args[3])
            .withGracePeriod(Duration.ofMillis(Long.parseLong(args[4]))).withCopyBatchSize(200).withProgressInterval(Duration.ofMillis(200))
            .withFence(Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofSeconds(3), Duration.ofMillis(300));
        MigrationWorker.start(config, new SimpleMeterRegistry());
        System.out.println("STARTED");
        System.out.flush();
        Thread.sleep(Duration.ofHours(2).toMillis());
    }
}
