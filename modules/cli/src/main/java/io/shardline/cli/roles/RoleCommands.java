package io.shardline.cli.roles;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import org.slf4j.LoggerFactory;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardline.admin.AdminServer;
import io.shardline.cli.config.ClusterFile;
import io.shardline.cli.config.DurationConverter;
import io.shardline.cli.ops.ClientOptions;
import io.shardline.controller.ControllerConfig;
import io.shardline.controller.ControllerNode;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.alerts.Alerter;
import io.shardline.controlplane.alerts.AlertmanagerWebhook;
import io.shardline.router.RouterConfig;
import io.shardline.router.http.RouterNode;
import io.shardline.router.wire.WireServer;
import io.shardline.router.wire.WireUsers;
import io.shardline.schemas.TopicCatalog;
import io.shardline.topology.balancer.BalancerSettings;
import io.shardline.worker.MigrationWorker;
import io.shardline.worker.config.HealthSettings;
import io.shardline.worker.config.WorkerConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * One role per process against an existing Kafka (with the schema registry) and real MongoDB shards, as deployed: the
 * shards' connection strings come from {@code shardline.shards}, where {@code init} or an {@code AddShard} command put
 * them. Each role prints its endpoint (if any) and {@code READY}, and runs until SIGINT or SIGTERM.
 */
public final class RoleCommands {

    private RoleCommands() {
    }

    /** What every role shares: where the control plane is, and running until stopped. */
    abstract static class Role implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        ClientOptions client;

        @Option(names = "--startup-timeout", defaultValue = "60s", converter = DurationConverter.class,
            description = "How long the role may take to catch up with the control plane at start (default: ${DEFAULT-VALUE}).")
        Duration startupTimeout;

        @Override
        public Integer call() throws Exception {
            TopicCatalog catalog = client.catalog();
            AutoCloseable running = start(catalog, spec.commandLine().getOut());
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    running.close();
                } catch (Exception e) {
                    LoggerFactory.getLogger(getClass()).warn("stopping {} failed", spec.name(), e);
                }
                stopped.countDown();
            }, "shardline-" + spec.name() + "-shutdown"));
            spec.commandLine().getOut().println("READY");
            spec.commandLine().getOut().flush();
            stopped.await();
            return 0;
        }

        abstract AutoCloseable start(TopicCatalog catalog, PrintWriter out) throws Exception;
    }

    @Command(name = "router", mixinStandardHelpOptions = true, description = "Run a query router: the HTTP API, /health and /metrics.")
    public static final class Router extends Role {
        @Option(names = "--host", defaultValue = "0.0.0.0", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
        String host;

        @Option(names = "--port", defaultValue = "8080", description = "Port to listen on, 0 for a free one (default: ${DEFAULT-VALUE}).")
        int port;

        @Option(names = "--fence-budget", defaultValue = "500ms", converter = DurationConverter.class,
            description = "How long a write to a fenced chunk waits for the new routing before a retryable error (default: ${DEFAULT-VALUE}).")
        Duration fenceBudget;

        @Option(names = "--shard-pool-size", defaultValue = "100",
            description = "The most connections to one shard; a request finding them all in use waits for one (default: ${DEFAULT-VALUE}).")
        int shardPoolSize;

        @Option(names = "--shard-pool-wait", defaultValue = "1s", converter = DurationConverter.class,
            description = "How long a request waits for a free connection to its shard before a retryable error naming the shard and "
                + "the pool size; keep it under the 5 s shard timeout (default: ${DEFAULT-VALUE}).")
        Duration shardPoolWait;

        @Option(names = "--shard-pool-idle", defaultValue = "0s", converter = DurationConverter.class,
            description = "A connection to a shard unused for this long is closed, giving the shard its connections back after a burst; "
                + "0s keeps it open (default: ${DEFAULT-VALUE}).")
        Duration shardPoolIdle;

        @Option(names = "--standby-ack-timeout", defaultValue = "5s", converter = DurationConverter.class,
            description = "How long a write with durability standby (the default; see a namespace's durability) waits for the shard's "
                + "standby to have it before it fails as unconfirmed: HTTP 504, wire WriteConcernFailed (default: ${DEFAULT-VALUE}).")
        Duration standbyAckTimeout;

        @Option(names = "--txn-lock-timeout", defaultValue = "50ms", converter = DurationConverter.class,
            description = "How long a transaction's statement waits for a document an older transaction holds before the transaction "
                + "fails with a conflict (TransientTransactionError, HTTP 409); a younger holder is aborted at once (default: ${DEFAULT-VALUE}).")
        Duration txnLockTimeout;

        @Option(names = "--txn-timeout", defaultValue = "3s", converter = DurationConverter.class,
            description = "A transaction whose coordinator wrote nothing to the coordinator log for this long is aborted by any router, and "
                + "a decided one not resolved after it is finished; its coordinator writes a heartbeat every third of it "
                + "(default: ${DEFAULT-VALUE}).")
        Duration txnTimeout;

        @Option(names = "--txn-lifetime", defaultValue = "60s", converter = DurationConverter.class,
            description = "The longest a transaction may stay open before its coordinator aborts it (default: ${DEFAULT-VALUE}).")
        Duration txnLifetime;

        @Option(names = "--routing-store", description = "Keep a local copy of the routing in this directory and start from it, reading "
            + "only the routing records published since; a copy of another topic, or older than half the routing topic's "
            + "delete.retention.ms, is ignored (default: off, the whole routing topic is read on every start).")
        Path routingStore;

        @Option(names = "--max-body-bytes", defaultValue = "16777216",
            description = "Request bodies larger than this are refused with 413 (default: ${DEFAULT-VALUE}, MongoDB's document limit).")
        long maxBodyBytes;

        @Option(names = "--mongo-port", description = "Also serve the MongoDB wire protocol on this port (0 for a free one), for MongoDB "
            + "drivers and tools; with the cluster file's users (SCRAM-SHA-256) on --mongo-host, without users on the loopback "
            + "interface only (default: off).")
        Integer mongoPort;

        @Option(names = "--mongo-host", defaultValue = "0.0.0.0",
            description = "Interface of the wire protocol when the cluster file declares users (default: ${DEFAULT-VALUE}).")
        String mongoHost;

        @Option(names = "--mongo-tls-cert", description = "PEM certificate chain: the wire protocol port speaks TLS (with --mongo-tls-key).")
        Path mongoTlsCert;

        @Option(names = "--mongo-tls-key", description = "PEM private key of --mongo-tls-cert.")
        Path mongoTlsKey;

        @Option(names = "--mongo-cursor-timeout", defaultValue = "10m", converter = DurationConverter.class,
            description = "A wire cursor no client reads from for this long is closed (default: ${DEFAULT-VALUE}, as MongoDB).")
        Duration mongoCursorTimeout;

        @Override
        AutoCloseable start(TopicCatalog catalog, PrintWriter out) throws Exception {
            if (maxBodyBytes < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--max-body-bytes: must be positive, was " + maxBodyBytes);
            }
            WireServer.Settings wire = wire();
            RouterNode node = RouterNode.start(config(catalog), host, port, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                startupTimeout, maxBodyBytes, wire);
            out.println("ROUTER_URL=" + node.url());
            if (node.mongoUri() != null) {
                out.println("MONGO_ROUTER_URI=" + node.mongoUri());
            }
            return node;
        }

        /** The router's settings the options give. */
        RouterConfig config(TopicCatalog catalog) {
            if (shardPoolSize < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--shard-pool-size: must be positive, was " + shardPoolSize);
            }
            if (shardPoolWait.toMillis() < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--shard-pool-wait: must be at least 1ms, was " + shardPoolWait);
            }
            if (shardPoolIdle.isNegative()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--shard-pool-idle: must not be negative, was " + shardPoolIdle);
            }
            if (standbyAckTimeout.toMillis() < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--standby-ack-timeout: must be at least 1ms, was " + standbyAckTimeout);
            }
            RouterConfig.TransactionSettings transactions;
            try {
                transactions = new RouterConfig.TransactionSettings(txnLockTimeout, txnTimeout, txnLifetime);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--txn-lock-timeout, --txn-timeout, --txn-lifetime: " + e.getMessage());
            }
            return RouterConfig.defaults(client.bootstrap(), catalog).withFenceBudget(fenceBudget).withShardPoolSize(shardPoolSize)
                .withShardPoolWait(shardPoolWait).withShardPoolIdle(shardPoolIdle).withRoutingStore(routingStore)
                .withStandbyAckTimeout(standbyAckTimeout).withTransactions(transactions);
        }

        /** The wire protocol's settings the options give, {@code null} without {@code --mongo-port}. */
        WireServer.Settings wire() {
            if (mongoPort != null && (mongoPort < 0 || mongoPort > 65_535)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--mongo-port: must be between 0 and 65535, was " + mongoPort);
            }
            if (mongoCursorTimeout.isZero() || mongoCursorTimeout.isNegative()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--mongo-cursor-timeout: must be positive, was " + mongoCursorTimeout);
            }
            if ((mongoTlsCert == null) != (mongoTlsKey == null)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--mongo-tls-cert and --mongo-tls-key go together");
            }
            WireServer.Settings wire = null;
            if (mongoPort != null) {
                wire = WireServer.Settings.defaults(mongoPort).withCursorIdleTimeout(mongoCursorTimeout).withUsers(users(), mongoHost);
                if (mongoTlsCert != null) {
                    wire = wire.withTls(new WireServer.Tls(mongoTlsCert, mongoTlsKey));
                }
            }
            return wire;
        }

        /** The cluster file's users, each with the first line of its password file (relative to the cluster file). */
        private WireUsers users() {
            WireUsers users = WireUsers.none();
            ClusterFile file = client.file();
            if (file == null) {
                return users;
            }
            Path base = client.filePath().toAbsolutePath().getParent();
            for (int i = 0; i < file.users().size(); i++) {
                ClusterFile.User user = file.users().get(i);
                Path passwordFile = base.resolve(user.passwordFile());
                String password;
                try {
                    password = Files.readAllLines(passwordFile, StandardCharsets.UTF_8).stream().findFirst().orElse("");
                } catch (IOException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "users[" + i + "].passwordFile: cannot read " + passwordFile
                        + ": " + e.getMessage());
                }
                try {
                    users = users.with(user.name(), password, user.roles().stream().map(WireUsers.Role::parse)
                        .collect(java.util.stream.Collectors.toSet()), user.tenant());
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "users[" + i + "]: " + e.getMessage());
                }
            }
            return users;
        }
    }

    @Command(name = "controller", mixinStandardHelpOptions = true,
        description = "Run the controller: size and load tables from CDC, split and merge decisions (Kafka Streams, exactly-once), "
            + "and the alerter: alerts from events on shardline.alerts, and to Alertmanager with --alert-webhook.")
    public static final class Controller extends Role {
        @Mixin
        MetricsOptions metrics;

        @Option(names = "--state-dir", required = true, description = "Directory of the controller's local state stores.")
        Path stateDir;

        @Option(names = "--decision-window", defaultValue = "10s", converter = DurationConverter.class,
            description = "Length of a decision window; thresholds must hold for the namespace's sustained windows (default: ${DEFAULT-VALUE}).")
        Duration decisionWindow;

        @Option(names = "--min-active-shards", defaultValue = "1", description = "Merges never go below this many ACTIVE shards (default: ${DEFAULT-VALUE}).")
        int minActiveShards;

        @Option(names = "--merge-headroom", defaultValue = "" + BalancerSettings.DEFAULT_MERGE_HEADROOM,
            description = "A shard whose storage or load is within this share of its split thresholds is near them; a merge waits while "
                + "it would leave such a shard without a split target of its own (default: ${DEFAULT-VALUE}, at 90% of a threshold).")
        double mergeHeadroom;

        @Option(names = "--alert-webhook", description = "Also post every alert to the Alertmanager at this base URL (its API v2: "
            + "POST <URL>/api/v2/alerts), e.g. http://alertmanager:9093; alerts always go to the alerts topic (default: no webhook).")
        String alertWebhook;

        @Override
        AutoCloseable start(TopicCatalog catalog, PrintWriter out) throws Exception {
            BalancerSettings balancer = balancer();
            Alerter.Settings alerts = alerter(client.bootstrap(), catalog);
            PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            MetricsEndpoint endpoint = metrics.serve(meters, out);
            ControllerNode controller = ControllerNode.start(ControllerConfig.defaults(client.bootstrap(), catalog, Files.createDirectories(stateDir))
                .withBalancer(balancer), meters, startupTimeout);
            Alerter alerter;
            try {
                alerter = Alerter.start(alerts, meters);
            } catch (RuntimeException failed) {
                controller.close();
                throw failed;
            }
            if (alerts.webhook() != null) {
                out.println("alerts to " + alerts.webhook().alertsUrl());
            }
            return MetricsOptions.closing(() -> {
                try {
                    alerter.close();
                } finally {
                    controller.close();
                }
            }, endpoint);
        }

        /** The alerter's settings the options give: always the alerts topic, and the webhook when one is given. */
        Alerter.Settings alerter(String bootstrap, TopicCatalog catalog) {
            Alerter.Settings settings = Alerter.Settings.defaults(bootstrap, catalog);
            if (alertWebhook == null) {
                return settings;
            }
            try {
                return settings.withWebhook(AlertmanagerWebhook.Settings.forAlertmanager(alertWebhook));
            } catch (IllegalArgumentException invalid) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--alert-webhook: " + invalid.getMessage());
            }
        }

        /** The balancer settings the options give. */
        BalancerSettings balancer() {
            BalancerSettings settings = BalancerSettings.defaults().withDecisionWindow(decisionWindow).withMinActiveShards(minActiveShards);
            try {
                return settings.withMergeHeadroom(mergeHeadroom);
            } catch (IllegalArgumentException invalid) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--merge-headroom: " + invalid.getMessage());
            }
        }
    }

    @Command(name = "worker", mixinStandardHelpOptions = true, description = "Run a migration worker: carries out the commands on shardline.commands.")
    public static final class Worker extends Role {
        @Mixin
        MetricsOptions metrics;

        @Option(names = "--grace-period", defaultValue = "5m", converter = DurationConverter.class,
            description = "How long a moved range stays on its old shard, reverse-replicated, before it is deleted there (default: ${DEFAULT-VALUE}).")
        Duration gracePeriod;

        @Option(names = "--worker-id", description = "This worker's id in events and migration states (default: a random one).")
        String workerId;

        @Option(names = "--owner-lease", defaultValue = "5s", converter = DurationConverter.class,
            description = "How long this worker goes on changing shards after it last proved it owns the commands; a successor of a worker "
                + "that did not hand over waits this long first (default: ${DEFAULT-VALUE}; under the 10 s session timeout).")
        Duration ownerLease;

        @Option(names = "--max-parallel-migrations", defaultValue = "4",
            description = "When this worker holds the commands: how many migrations may run at once in the group, never two on one shard "
                + "(at most the migration-lanes topic's partitions; default: ${DEFAULT-VALUE}).")
        int maxParallelMigrations;

        @Option(names = "--health-interval", defaultValue = "500ms", converter = DurationConverter.class,
            description = "When this worker holds the commands: how often it probes every shard; a probe slower than this failed "
                + "(default: ${DEFAULT-VALUE}).")
        Duration healthInterval;

        @Option(names = "--down-after", defaultValue = "1500ms", converter = DurationConverter.class,
            description = "A shard that has not answered a probe for this long is marked DOWN: routers fail its requests at once "
                + "(default: ${DEFAULT-VALUE}).")
        Duration downAfter;

        @Option(names = "--up-after", defaultValue = "5s", converter = DurationConverter.class,
            description = "A DOWN shard that answers every probe for this long is marked UP again (default: ${DEFAULT-VALUE}).")
        Duration upAfter;

        @Option(names = "--failover-catch-up", defaultValue = "2s", converter = DurationConverter.class,
            description = "How long a failover waits for a DOWN shard's standby to apply every change its CDC topics hold before it "
                + "gives the attempt up and tries again later (default: ${DEFAULT-VALUE}).")
        Duration failoverCatchUp;

        @Option(names = "--connect-url",
            description = "Kafka Connect's REST URL: needed to add standbys (their sink connectors run there) and to fail shards over "
                + "(their CDC connectors are pointed at the standby); without it DOWN shards are only marked.")
        String connectUrl;

        @Override
        AutoCloseable start(TopicCatalog catalog, PrintWriter out) throws Exception {
            PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            MetricsEndpoint endpoint = metrics.serve(meters, out);
            return MetricsOptions.closing(MigrationWorker.start(config(client.bootstrap(), catalog), meters), endpoint);
        }

        /** The worker's settings the options give; an option out of range is refused by name. */
        WorkerConfig config(String bootstrap, TopicCatalog catalog) {
            WorkerConfig config = WorkerConfig.defaults(bootstrap, catalog).withGracePeriod(gracePeriod);
            try {
                config = config.withOwnerLease(ownerLease);
            } catch (IllegalArgumentException invalid) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--owner-lease: " + invalid.getMessage());
            }
            try {
                config = config.withMaxParallelMigrations(maxParallelMigrations);
            } catch (IllegalArgumentException invalid) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--max-parallel-migrations: " + invalid.getMessage());
            }
            try {
                config = config.withHealth(new HealthSettings(healthInterval, downAfter, upAfter, failoverCatchUp)).withConnectUrl(connectUrl);
            } catch (IllegalArgumentException invalid) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--health-interval, --down-after, --up-after, --failover-catch-up: " + invalid.getMessage());
            }
            return workerId == null ? config : config.withWorkerId(workerId);
        }
    }

    @Command(name = "admin", mixinStandardHelpOptions = true,
        description = "Run the admin API: shard commands and control-plane reads behind signed bearer tokens (roles admin, viewer).")
    public static final class Admin extends Role {
        @Option(names = "--host", defaultValue = "0.0.0.0", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
        String host;

        @Option(names = "--port", defaultValue = "8081", description = "Port to listen on, 0 for a free one (default: ${DEFAULT-VALUE}).")
        int port;

        @Mixin
        Secret secret;

        @Option(names = "--max-token-lifetime", defaultValue = "24h", converter = DurationConverter.class,
            description = "The longest a bearer token may be valid (exp counted from iat and from now); a token without exp, or valid "
                + "for longer, gets 401 (default: ${DEFAULT-VALUE}).")
        Duration maxTokenLifetime;

        @Override
        AutoCloseable start(TopicCatalog catalog, PrintWriter out) throws Exception {
            if (maxTokenLifetime.isNegative() || maxTokenLifetime.isZero()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--max-token-lifetime: must be positive, was " + maxTokenLifetime);
            }
            AdminServer admin = AdminServer.start(new ControlPlaneClient(client.bootstrap(), catalog, "admin"), secret.read(), host, port, maxTokenLifetime);
            out.println("ADMIN_URL=http://127.0.0.1:" + admin.port() + "/api/admin");
            return admin;
        }
    }

    @Command(name = "token", mixinStandardHelpOptions = true,
        description = "Sign a bearer token for the admin API (for tests and bootstrapping; production tokens come from your identity provider).")
    public static final class Token implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Mixin
        Secret secret;

        @Option(names = "--subject", required = true, description = "Who the token is for; commands are issued as admin:<subject>.")
        String subject;

        @Option(names = "--role", required = true, split = ",", description = "admin, viewer (comma-separated).")
        List<String> roles;

        @Option(names = "--expires-in", defaultValue = "1h", converter = DurationConverter.class,
            description = "Validity, at most --max-token-lifetime (default: ${DEFAULT-VALUE}).")
        Duration expiresIn;

        @Option(names = "--max-token-lifetime", defaultValue = "24h", converter = DurationConverter.class,
            description = "The admin API's maximum token lifetime, which --expires-in may not exceed (default: ${DEFAULT-VALUE}, the admin role's).")
        Duration maxTokenLifetime;

        @Override
        public Integer call() throws IOException {
            for (String role : roles) {
                if (!role.equals("admin") && !role.equals("viewer")) {
                    throw new IllegalArgumentException("--role: '" + role + "' is not admin or viewer");
                }
            }
            if (expiresIn.toSeconds() < 1 || expiresIn.compareTo(maxTokenLifetime) > 0) {
                throw new IllegalArgumentException("--expires-in: must be between 1 s and --max-token-lifetime " + maxTokenLifetime
                    + ", was " + expiresIn);
            }
            spec.commandLine().getOut().println(AdminServer.token(secret.read(), subject, roles, (int) expiresIn.toSeconds()));
            return 0;
        }
    }

    /** The HS256 secret tokens are signed with: from a file, or the environment. */
    public static final class Secret {
        @Option(names = "--jwt-secret-file", description = "File holding the token signing secret (else env SHARDLINE_ADMIN_JWT_SECRET).")
        Path file;

        String read() throws IOException {
            String value = file != null ? Files.readString(file, StandardCharsets.UTF_8).strip() : System.getenv("SHARDLINE_ADMIN_JWT_SECRET");
            if (value == null || value.length() < 32) {
                throw new IllegalArgumentException("--jwt-secret-file: a signing secret of at least 32 characters is required"
                    + " (or SHARDLINE_ADMIN_JWT_SECRET)");
            }
            return value;
        }
    }
}
