package io.shardline.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import io.shardline.schemas.avro.Thresholds;
import io.shardline.topology.balancer.BalancerSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shardline up}: the embedded cluster in this process, until SIGINT or SIGTERM. Prints one
 * {@code KEY=VALUE} line per endpoint, the start-up time, then {@code READY}.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
    description = "Start the embedded cluster (Kafka, schema registry, Kafka Connect + Debezium, shards, query router, controller, worker) and keep it running.")
final class UpCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    StackOptions stack;

    @Option(names = "--no-cdc", negatable = false, description = "Do not start Kafka Connect and the Debezium connectors.")
    boolean noCdc;

    @Option(names = "--shard-capacity-bytes", defaultValue = "268435456",
        description = "Storage capacity registered for each shard (default: ${DEFAULT-VALUE}).")
    long shardCapacityBytes;

    @Option(names = "--shard-capacity-ops", defaultValue = "2000",
        description = "Query capacity (ops/s) registered for each shard (default: ${DEFAULT-VALUE}).")
    long shardCapacityOps;

    @Override
    public Integer call() throws Exception {
        stack.noCdc = noCdc;
        stack.shardCapacityBytes = shardCapacityBytes;
        stack.shardCapacityOps = shardCapacityOps;
        PrintWriter out = spec.commandLine().getOut();
        LocalStack local = LocalStack.start(new LocalStack.Spec(stack, Thresholds.newBuilder().build(),
            BalancerSettings.defaults(), Duration.ofMinutes(5)));
        long startupMillis = local.millisSinceStart();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            local.close();
            stopped.countDown();
        }, "shardline-up-shutdown"));
        local.endpoints().forEach((key, value) -> out.println(key + "=" + value));
        out.println("STARTUP_MILLIS=" + startupMillis);
        out.println("READY");
        out.flush();
        stopped.await();
        return 0;
    }
}
