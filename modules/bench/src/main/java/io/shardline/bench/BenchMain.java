package io.shardline.bench;

import java.util.Arrays;

/**
 * Runs one benchmark and prints its figures. Every figure that has a natural baseline is printed next to that
 * baseline measured in the same run, as a ratio, because the machine is shared and absolute numbers drift.
 *
 * <pre>
 *   java -jar modules/bench/target/shardline-bench.jar shard [scale]
 *   java -jar modules/bench/target/shardline-bench.jar cdc [scale]
 *   java -jar modules/bench/target/shardline-bench.jar router [scale]
 *   java -jar modules/bench/target/shardline-bench.jar wire [scale]
 *   java -jar modules/bench/target/shardline-bench.jar drift [scale]
 *   java -jar modules/bench/target/shardline-bench.jar decision [scale]
 *   java -jar modules/bench/target/shardline-bench.jar migration [scale]
 *   java -jar modules/bench/target/shardline-bench.jar routing [scale]
 *   java -jar modules/bench/target/shardline-bench.jar controller [scale]
 *   java -jar modules/bench/target/shardline-bench.jar scaling [scale]
 *   java -jar modules/bench/target/shardline-bench.jar parallel-moves [scale]
 *   java -jar modules/bench/target/shardline-bench.jar backup [scale]
 *   java -jar modules/bench/target/shardline-bench.jar model [sequences] [steps] [seed]
 * </pre>
 * {@code scale} (default 1.0) multiplies every operation count; 0.05 gives a quick smoke run. {@code model} runs
 * seeded random sequences of migrations and faults against an embedded cluster with the write checker after each
 * (default 20 sequences of 8 steps, the seed from the clock; it prints the seed); exit code 1 when one failed.
 */
public final class BenchMain {

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: shardline-bench shard|cdc|router|wire|drift|decision|migration|routing|controller|scaling|parallel-moves|backup|durability|transactions [scale] | model [sequences] [steps] [seed]");
            System.exit(2);
        }
        if (args[0].equals("model")) {
            System.exit(ModelBench.run(args));
        }
        double scale = args.length > 1 ? Double.parseDouble(args[1]) : 1.0;
        if (scale <= 0) {
            throw new IllegalArgumentException("scale must be > 0, was " + scale);
        }
        switch (args[0]) {
            case "shard" -> new ShardBench(scale).run().forEach(System.out::println);
            case "cdc" -> new CdcBench(scale).run().forEach(System.out::println);
            case "router" -> new RouterBench(scale).run().forEach(System.out::println);
            case "wire" -> new RouterBench(scale).runWire().forEach(System.out::println);
            case "drift" -> new DriftBench(scale).run().forEach(System.out::println);
            case "decision" -> new DecisionBench(scale).run().forEach(System.out::println);
            case "migration" -> new MigrationBench(scale).run();
            case "routing" -> new RoutingBench(scale).run().forEach(System.out::println);
            case "controller" -> new ControllerBench(scale).run().forEach(System.out::println);
            case "scaling" -> new ScalingBench(scale).run().forEach(System.out::println);
            case "parallel-moves" -> new ParallelMovesBench(scale).run().forEach(System.out::println);
            case "backup" -> new BackupBench(scale).run().forEach(System.out::println);
            case "durability" -> new DurabilityBench(scale).run().forEach(System.out::println);
            case "transactions" -> new TransactionBench(scale).run().forEach(System.out::println);
            default -> {
                System.err.println("unknown benchmark " + args[0] + "; one of " + Arrays.asList("shard", "cdc", "router", "wire", "drift", "decision", "migration", "routing", "controller", "scaling", "parallel-moves", "backup", "durability", "transactions", "model"));
                System.exit(2);
            }
        }
        System.exit(0);
    }

    static int scaled(int count, double scale) {
        return Math.max(1, (int) Math.round(count * scale));
    }
}
