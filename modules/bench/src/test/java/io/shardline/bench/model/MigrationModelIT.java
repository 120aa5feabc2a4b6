package io.shardline.bench.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.testing.ShardlineCluster;

/**
 * The short budget of the model-based migration test (the long one is {@code shardline-bench model}): a few seeded
 * random sequences of moves, splits, rollbacks, aborts, worker kills, starts and pauses and router pauses under
 * writes, each checked against every shard. The seed is fixed per build unless {@code shardline.model.seed} is set;
 * {@code shardline.model.sequences} and {@code shardline.model.steps} size the budget.
 */
@ShardlineCluster
class MigrationModelIT {

    @Test
    void shouldLoseNoAcknowledgedWriteInRandomSequencesOfMigrationsAndFaults(EmbeddedCluster cluster) throws Exception {
        long seed = Long.getLong("shardline.model.seed", 20261130L);
        int sequences = Integer.getInteger("shardline.model.sequences", 4);
        int steps = Integer.getInteger("shardline.model.steps", 8);
        Path logs = Files.createDirectories(Path.of("target", "model-logs"));
        // Four shards: moves on disjoint pairs run in parallel, in lanes the two worker processes share.
        cluster.addShard("s3");
        cluster.addShard("s4");
        MigrationModel.Report report;
        try {
            report = new MigrationModel(cluster, logs, System.out::println, 3).run(seed, sequences, steps);
        } finally {
            cluster.removeShard("s3");
            cluster.removeShard("s4");
        }
        System.out.printf("model: %d sequences, %d steps, %d failed (seed %d)%n", report.sequences(), report.steps(), report.failures().size(), seed);
        assertThat(report.failures()).as("failing sequences (seed %d)", seed).isEmpty();
        assertThat(report.sequences()).isEqualTo(sequences);
    }
}
