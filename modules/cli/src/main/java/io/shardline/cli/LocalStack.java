package io.shardline.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardline.admin.AdminServer;
import io.shardline.cli.ops.ShardKeyIndexes;
import io.shardline.controller.ControllerConfig;
import io.shardline.controller.ControllerNode;
import io.shardline.controlplane.AuthServiceLayout;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.controlplane.alerts.Alerter;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.router.RouterConfig;
import io.shardline.router.http.RouterHttpServer;
import io.shardline.router.http.RouterNode;
import io.shardline.router.wire.WireServer;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.topology.balancer.BalancerSettings;
import io.shardline.worker.MigrationWorker;
import io.shardline.worker.config.WorkerConfig;

/**
 * Everything on the embedded default in one process: the embedded cluster (broker, registry, Connect + Debezium,
 * shards), the auth service's namespaces spread over the shards (with their shard-key index on each), a query router serving HTTP, the controller
 * and its alerter (alerts on the alerts topic), a migration worker and the admin API (with a token for the local operator). {@code up} and {@code demo} both stand on it; {@link #close()} stops the parts in reverse order.
 */
final class LocalStack implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalStack.class);

    /**
     * What to start.
     *
     * @param beforeController runs once the router serves and before the controller starts, e.g. to load data the
     *                         controller's first decisions should already see
     */
    record Spec(StackOptions options, Thresholds thresholds, BalancerSettings balancer, Duration gracePeriod,
                Preparation beforeController) {
        Spec(StackOptions options, Thresholds thresholds, BalancerSettings balancer, Duration gracePeriod) {
            this(options, thresholds, balancer, gracePeriod, stack -> { });
        }
    }

    /** A step between starting the router and starting the controller. */
    @FunctionalInterface
    interface Preparation {
        void prepare(LocalStack stack) throws Exception;
    }

    private final Path dir;
    private final boolean temporary;
    private final EmbeddedCluster cluster;
    private final PrometheusMeterRegistry meters;
    private final List<AutoCloseable> roles = new ArrayList<>();
    private final long startedNanos;
    private RouterNode router;
    private AdminServer admin;
    private String adminToken;

    private LocalStack(Path dir, boolean temporary, EmbeddedCluster cluster, PrometheusMeterRegistry meters, long startedNanos) {
        this.dir = dir;
        this.temporary = temporary;
        this.cluster = cluster;
        this.meters = meters;
        this.startedNanos = startedNanos;
    }

    static LocalStack start(Spec spec) throws Exception {
        StackOptions options = spec.options();
        options.validate();
        boolean temporary = options.workDir == null;
        Path dir = temporary ? Files.createTempDirectory("shardline-") : Files.createDirectories(options.workDir);
        long begin = System.nanoTime();
        EmbeddedCluster cluster = EmbeddedCluster.start(EmbeddedClusterConfig.defaults(dir)
            .withShards(options.shards).withTopicPrefix(options.topicPrefix).withCdc(!options.noCdc));
        LocalStack stack = new LocalStack(dir, temporary, cluster, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), begin);
        try {
            stack.startRoles(spec);
        } catch (Exception | Error e) {
            stack.close();
            throw e;
        }
        return stack;
    }

    private void startRoles(Spec spec) throws Exception {
        StackOptions options = spec.options();
        Map<String, String> shardUris = new LinkedHashMap<>();
        cluster.shards().forEach((id, shard) -> shardUris.put(id, shard.connectionString()));
        List<ShardKeyIndexes.Failure> missing = ShardKeyIndexes.ensure(shardUris,
            List.of(AuthServiceLayout.USERS, AuthServiceLayout.SESSIONS, AuthServiceLayout.AUDIT_ENTRIES));
        if (!missing.isEmpty()) {
            throw new IllegalStateException(missing.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining("; ")));
        }
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), cluster.catalog())) {
            AuthServiceLayout.publish(publisher, shardUris, options.shardCapacityBytes, options.shardCapacityOps, spec.thresholds());
        }
        router = RouterNode.start(RouterConfig.defaults(cluster.bootstrapServers(), cluster.catalog()), "127.0.0.1", options.routerPort,
            meters, Duration.ofSeconds(60), RouterHttpServer.DEFAULT_MAX_BODY_BYTES, WireServer.Settings.defaults(options.mongoPort));
        roles.add(router);
        if (!options.noCdc) {
            ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), cluster.shards().keySet(),
                List.of(AuthServiceLayout.USERS, AuthServiceLayout.SESSIONS, AuthServiceLayout.AUDIT_ENTRIES), (short) 1);
        }
        spec.beforeController().prepare(this);
        roles.add(ControllerNode.start(ControllerConfig.defaults(cluster.bootstrapServers(), cluster.catalog(),
            Files.createDirectories(dir.resolve("controller"))).withBalancer(spec.balancer()), meters, Duration.ofSeconds(60)));
        roles.add(Alerter.start(Alerter.Settings.defaults(cluster.bootstrapServers(), cluster.catalog()), meters));
        roles.add(MigrationWorker.start(WorkerConfig.defaults(cluster.bootstrapServers(), cluster.catalog())
            .withGracePeriod(spec.gracePeriod()).withConnectUrl(options.noCdc ? null : cluster.connectUrl()), meters));
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        admin = AdminServer.start(new ControlPlaneClient(cluster.bootstrapServers(), cluster.catalog(), "admin"), HexFormat.of().formatHex(secret),
            "127.0.0.1", 0);
        roles.add(admin);
        adminToken = admin.token("local-operator", List.of("admin", "viewer"), (int) Duration.ofDays(1).toSeconds());
    }

    /** The stack's working directory (temporary unless --work-dir named one). */
    Path dir() {
        return dir;
    }

    EmbeddedCluster cluster() {
        return cluster;
    }

    RouterNode router() {
        return router;
    }

    PrometheusMeterRegistry meters() {
        return meters;
    }

    /** Milliseconds from the start of {@link #start(Spec)} to now. */
    long millisSinceStart() {
        return (System.nanoTime() - startedNanos) / 1_000_000;
    }

    /** The endpoints a user needs, as {@code KEY=VALUE} pairs in print order. */
    Map<String, String> endpoints() {
        Map<String, String> endpoints = new LinkedHashMap<>(cluster.endpoints());
        if (router != null) {
            endpoints.put("ROUTER_URL", router.url());
            endpoints.put("MONGO_ROUTER_URI", router.mongoUri());
        }
        if (admin != null) {
            endpoints.put("ADMIN_URL", "http://127.0.0.1:" + admin.port() + "/api/admin");
            endpoints.put("ADMIN_TOKEN", adminToken);
        }
        return endpoints;
    }

    @Override
    public void close() {
        for (int i = roles.size() - 1; i >= 0; i--) {
            try {
                roles.get(i).close();
            } catch (Exception e) {
                LOG.warn("stopping {} failed", roles.get(i).getClass().getSimpleName(), e);
            }
        }
        cluster.close();
        if (temporary) {
            deleteRecursively(dir);
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
