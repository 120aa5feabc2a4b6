package io.shardline.bench;

import java.nio.file.Files;
import java.nio.file.Path;

import io.shardline.bench.model.MigrationModel;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;

/** The long budget of the model-based migration test: {@code model [sequences] [steps] [seed]}. */
final class ModelBench {

    private ModelBench() {
    }

    static int run(String[] args) throws Exception {
        int sequences = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        long seed = args.length > 3 ? Long.parseLong(args[3]) : System.currentTimeMillis();
        if (sequences < 1 || steps < 1) {
            throw new IllegalArgumentException("sequences and steps must be at least 1, were " + sequences + " and " + steps);
        }
        Path work = Files.createTempDirectory("shardline-model-");
        System.out.println("model: " + sequences + " sequences of " + steps + " steps from seed " + seed + "; process logs in " + work);
        long started = System.nanoTime();
        try (EmbeddedCluster cluster = EmbeddedCluster.start(EmbeddedClusterConfig.defaults(work).withShards(4))) {
            MigrationModel.Report report = new MigrationModel(cluster, work, System.out::println, 10).run(seed, sequences, steps);
            System.out.printf("model: %d sequences (%d steps) in %.0f s, %d failed%n", report.sequences(), report.steps(),
                (System.nanoTime() - started) / 1e9, report.failures().size());
            return report.passed() ? 0 : 1;
        }
    }
}
