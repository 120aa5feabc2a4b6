package io.shardline.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.schemas.TopicCatalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shardline up}: the embedded cluster in this process, until SIGINT or SIGTERM. Prints one
 * {@code KEY=VALUE} line per endpoint, the start-up time, then {@code READY}.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
    description = "Start the embedded cluster (Kafka, schema registry, Kafka Connect + Debezium, shards) and keep it running.")
final class UpCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--shards", defaultValue = "3", description = "Number of embedded shards (default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--topic-prefix", defaultValue = TopicCatalog.DEFAULT_PREFIX,
        description = "Prefix of the control-plane topics (default: ${DEFAULT-VALUE}).")
    String topicPrefix;

    @Option(names = "--work-dir", description = "Directory for broker and registry files (default: a new temporary directory, removed on exit).")
    Path workDir;

    @Option(names = "--no-cdc", negatable = false, description = "Do not start Kafka Connect and the Debezium connectors.")
    boolean noCdc;

    @Override
    public Integer call() throws Exception {
        if (shards < 1) {
            throw new IllegalArgumentException("--shards must be at least 1, was " + shards);
        }
        boolean temporary = workDir == null;
        Path dir = temporary ? Files.createTempDirectory("shardline-up-") : Files.createDirectories(workDir);
        EmbeddedClusterConfig config = EmbeddedClusterConfig.defaults(dir)
            .withShards(shards).withTopicPrefix(topicPrefix).withCdc(!noCdc);
        PrintWriter out = spec.commandLine().getOut();
        EmbeddedCluster cluster = EmbeddedCluster.start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            cluster.close();
            if (temporary) {
                deleteRecursively(dir);
            }
            stopped.countDown();
        }, "shardline-up-shutdown"));
        cluster.endpoints().forEach((key, value) -> out.println(key + "=" + value));
        out.println("STARTUP_MILLIS=" + cluster.startupTime().toMillis());
        out.println("READY");
        out.flush();
        stopped.await();
        return 0;
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e);
        }
    }
}
