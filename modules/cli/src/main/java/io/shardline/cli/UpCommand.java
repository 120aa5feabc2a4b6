package io.shardline.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardline.controller.ControllerConfig;
import io.shardline.controller.ControllerNode;
import io.shardline.controlplane.AuthServiceLayout;
import io.shardline.worker.MigrationWorker;
import io.shardline.worker.WorkerConfig;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.router.RouterConfig;
import io.shardline.router.http.RouterNode;
import io.shardline.schemas.TopicCatalog;
import org.slf4j.LoggerFactory;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shardline up}: the embedded cluster in this process, until SIGINT or SIGTERM. Prints one
 * {@code KEY=VALUE} line per endpoint, the start-up time, then {@code READY}.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
    description = "Start the embedded cluster (Kafka, schema registry, Kafka Connect + Debezium, shards, query router, controller) and keep it running.")
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

    @Option(names = "--router-port", defaultValue = "0", description = "Port of the query router's HTTP API (default: a free one).")
    int routerPort;

    @Option(names = "--shard-capacity-bytes", defaultValue = "268435456",
        description = "Storage capacity registered for each shard (default: ${DEFAULT-VALUE}).")
    long shardCapacityBytes;

    @Option(names = "--shard-capacity-ops", defaultValue = "2000",
        description = "Query capacity (ops/s) registered for each shard (default: ${DEFAULT-VALUE}).")
    long shardCapacityOps;

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
        long begin = System.nanoTime();
        EmbeddedCluster cluster = EmbeddedCluster.start(config);
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RouterNode router;
        ControllerNode controller;
        try {
            router = startRouter(cluster, meters);
        } catch (Exception e) {
            cluster.close();
            throw e;
        }
        try {
            if (!noCdc) {
                ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), cluster.shards().keySet(),
                    List.of(AuthServiceLayout.USERS, AuthServiceLayout.SESSIONS, AuthServiceLayout.AUDIT_ENTRIES), (short) 1);
            }
            controller = ControllerNode.start(ControllerConfig.defaults(cluster.bootstrapServers(), cluster.catalog(),
                Files.createDirectories(dir.resolve("controller"))), meters, Duration.ofSeconds(60));
        } catch (Exception e) {
            closeRouter(router);
            cluster.close();
            throw e;
        }
        MigrationWorker worker = MigrationWorker.start(WorkerConfig.defaults(cluster.bootstrapServers(), cluster.catalog()), meters);
        long startupMillis = (System.nanoTime() - begin) / 1_000_000;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            worker.close();
            controller.close();
            closeRouter(router);
            cluster.close();
            if (temporary) {
                deleteRecursively(dir);
            }
            stopped.countDown();
        }, "shardline-up-shutdown"));
        cluster.endpoints().forEach((key, value) -> out.println(key + "=" + value));
        out.println("ROUTER_URL=" + router.url());
        out.println("STARTUP_MILLIS=" + startupMillis);
        out.println("READY");
        out.flush();
        stopped.await();
        return 0;
    }

    /** Registers the shards, spreads the auth service's namespaces over them and starts the router on them. */
    private RouterNode startRouter(EmbeddedCluster cluster, PrometheusMeterRegistry meters) throws Exception {
        if (shardCapacityBytes < 1 || shardCapacityOps < 1) {
            throw new IllegalArgumentException("--shard-capacity-bytes and --shard-capacity-ops must be positive");
        }
        Map<String, String> shardUris = new LinkedHashMap<>();
        cluster.shards().forEach((id, shard) -> shardUris.put(id, shard.connectionString()));
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), cluster.catalog())) {
            AuthServiceLayout.publish(publisher, shardUris, shardCapacityBytes, shardCapacityOps);
        }
        return RouterNode.start(RouterConfig.defaults(cluster.bootstrapServers(), cluster.catalog()), "127.0.0.1", routerPort,
            meters, Duration.ofSeconds(60));
    }

    private static void closeRouter(RouterNode router) {
        try {
            router.close();
        } catch (Exception e) {
            LoggerFactory.getLogger(UpCommand.class).warn("stopping the router failed", e);
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir, e);
        }
    }
}
