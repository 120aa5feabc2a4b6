package io.shardline.bench.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import io.shardline.embedded.EmbeddedCluster;

/**
 * Model-based testing of migrations: seeded random sequences of operator commands (move, split, rollback, abort) and
 * faults (worker kill, start, pause past its session timeout; router pause past its lease) run against a real
 * cluster while writers write, each followed by the acknowledged-write checker ({@link ModelRun}). A failing
 * sequence is printed with its seed and shrunk: steps are dropped one at a time, last first, as long as the
 * shorter sequence still fails, within a bounded number of runs.
 */
public final class MigrationModel {

    /** What a budget of sequences found. */
    public record Report(int sequences, int steps, List<String> failures) {
        public boolean passed() {
            return failures.isEmpty();
        }
    }

    private final EmbeddedCluster cluster;
    private final Path logDir;
    private final Consumer<String> out;
    private final int maxShrinkRuns;

    /**
     * @param logDir        where the worker and router processes write their logs
     * @param out           where progress, failing sequences and their shrunk forms are printed
     * @param maxShrinkRuns how many extra runs shrinking a failing sequence may take
     */
    public MigrationModel(EmbeddedCluster cluster, Path logDir, Consumer<String> out, int maxShrinkRuns) {
        this.cluster = cluster;
        this.logDir = logDir;
        this.out = out;
        this.maxShrinkRuns = maxShrinkRuns;
    }

    /** Runs {@code sequences} sequences of {@code length} steps, seeded {@code seed}, {@code seed + 1}, ... */
    public Report run(long seed, int sequences, int length) throws Exception {
        List<String> failures = new ArrayList<>();
        int steps = 0;
        for (int i = 0; i < sequences; i++) {
            long sequenceSeed = seed + i;
            List<ModelStep> sequence = ModelStep.generate(sequenceSeed, length);
            steps += sequence.size();
            out.accept("sequence " + (i + 1) + "/" + sequences + " (seed " + sequenceSeed + "): " + describe(sequence));
            List<String> problems = runOnce(sequenceSeed, sequence);
            if (problems.isEmpty()) {
                out.accept("sequence " + (i + 1) + " passed");
                continue;
            }
            out.accept("sequence " + (i + 1) + " FAILED (seed " + sequenceSeed + "): " + problems + "; shrinking");
            List<ModelStep> shrunk = shrink(sequenceSeed, sequence);
            String failure = "seed " + sequenceSeed + " failed: " + problems + "\n  sequence: " + describe(sequence) + "\n  shrunk to: " + describe(shrunk);
            out.accept(failure);
            failures.add(failure);
        }
        return new Report(sequences, steps, failures);
    }

    private List<String> runOnce(long seed, List<ModelStep> sequence) throws Exception {
        try (ModelRun run = new ModelRun(cluster, seed, logDir)) {
            List<String> problems = run.run(sequence);
            run.log().forEach(line -> out.accept("  " + line));
            return problems;
        }
    }

    private List<ModelStep> shrink(long seed, List<ModelStep> failing) throws Exception {
        List<ModelStep> current = new ArrayList<>(failing);
        int runs = 0;
        for (int drop = current.size() - 1; drop >= 0 && runs < maxShrinkRuns; drop--) {
            List<ModelStep> shorter = new ArrayList<>(current);
            shorter.remove(drop);
            runs++;
            out.accept("shrinking (" + runs + "/" + maxShrinkRuns + "): " + describe(shorter));
            List<String> still = runOnce(seed, shorter);
            if (!still.isEmpty()) {
                out.accept("  still fails: " + still);
                current = shorter;
            }
        }
        return current;
    }

    static String describe(List<ModelStep> steps) {
        return steps.stream().map(ModelStep::describe).toList().toString();
    }
}
