package io.shardline.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.Set;

import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;

import io.shardline.cli.config.DurationConverter;
import io.shardline.cli.demo.PointInTimeDemo;
import io.shardline.cli.demo.TransactionLedger;
import io.shardline.cli.demo.AuthWorkload;
import io.shardline.cli.demo.ClusterWatch;
import io.shardline.cli.demo.DemoOutput;
import io.shardline.cli.demo.DemoReport;
import io.shardline.cli.demo.FailoverDemo;
import io.shardline.core.txn.IntentLayout;
import io.shardline.worker.check.WriteLedger;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.AuthServiceLayout;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.shard.EmbeddedShard;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.topology.balancer.BalancerSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code shardline demo}: the embedded cluster with every role, the auth service's data model, and a multi-tenant
 * workload through the router sized so that within minutes a shard crosses its storage threshold (a split and a live
 * chunk move follow) and later, once retention purges old data and traffic drops, a shard is merged away. Shows the
 * cluster live, then checks every acknowledged write and prints a report.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run everything on the embedded default with a multi-tenant auth-service workload: watch splits, moves and a merge happen, then read the report.")
final class DemoCommand implements Callable<Integer> {

    /** How long the demo waits for the controller to count the loaded documents before the workload starts. */
    private static final Duration SEED_SEEN_BOUND = Duration.ofSeconds(90);

    static final List<String> NAMESPACES = List.of(AuthServiceLayout.USERS, AuthServiceLayout.SESSIONS, AuthServiceLayout.AUDIT_ENTRIES);

    @Spec
    CommandSpec spec;

    @Mixin
    StackOptions stack;

    @Option(names = "--duration", defaultValue = "5m", converter = DurationConverter.class,
        description = "How long the workload runs, e.g. 90s, 5m (default: ${DEFAULT-VALUE}); Ctrl-C ends it early and still reports.")
    Duration duration;

    @Option(names = "--shard-capacity-bytes", defaultValue = "4194304",
        description = "Storage capacity registered for each shard, small so that it fills within minutes (default: ${DEFAULT-VALUE}).")
    long shardCapacityBytes;

    @Option(names = "--shard-capacity-ops", defaultValue = "1000",
        description = "Query capacity (ops/s) registered for each shard (default: ${DEFAULT-VALUE}).")
    long shardCapacityOps;

    @Option(names = "--rate", defaultValue = "300", description = "Requests per second while the data grows (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--quiet-rate", defaultValue = "20", description = "Requests per second once traffic drops (default: ${DEFAULT-VALUE}).")
    int quietRate;

    @Option(names = "--clients", defaultValue = "4", description = "Concurrent clients of the workload (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the workload's random choices (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--decision-window", defaultValue = "5s", converter = DurationConverter.class,
        description = "The controller's decision window; thresholds must hold for 3 windows (default: ${DEFAULT-VALUE}).")
    Duration decisionWindow;

    @Option(names = "--grace-period", defaultValue = "15s", converter = DurationConverter.class,
        description = "How long a moved range stays on its old shard, reverse-replicated, before it is deleted there (default: ${DEFAULT-VALUE}).")
    Duration gracePeriod;

    @Option(names = "--grow-share", defaultValue = "0.55",
        description = "Share of the duration the data grows at most; it stops growing earlier once a split's move is cut over (default: ${DEFAULT-VALUE}).")
    double growShare;

    @Option(names = "--seed-share", defaultValue = "0.3",
        description = "The data loaded before the workload starts, as a share of the shards' total capacity (default: ${DEFAULT-VALUE}).")
    double seedShare;

    @Option(names = "--failover", negatable = true, defaultValue = "true", fallbackValue = "true",
        description = "Give one shard a standby and kill the shard mid-run: the report shows its detection, promotion, the requests "
            + "that failed meanwhile and the acknowledged writes lost (none with the default durability); --no-failover keeps every "
            + "shard up (default: on).")
    boolean failover;

    @Option(names = "--plain", negatable = false, description = "Plain lines instead of the live view, also on a terminal.")
    boolean plain;

    @Override
    public Integer call() throws Exception {
        if (growShare <= 0 || growShare >= 1) {
            throw new IllegalArgumentException("--grow-share must be between 0 and 1, was " + growShare);
        }
        if (seedShare < 0 || seedShare >= 0.8) {
            throw new IllegalArgumentException("--seed-share must be at least 0 and under the split threshold 0.8, was " + seedShare);
        }
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("--duration must be positive, was " + duration);
        }
        stack.shardCapacityBytes = shardCapacityBytes;
        stack.shardCapacityOps = shardCapacityOps;
        PrintWriter out = spec.commandLine().getOut();
        DemoOutput output = DemoOutput.of(out, !plain && System.console() != null);
        output.line("Starting the embedded cluster: Kafka (KRaft), schema registry, Kafka Connect + Debezium, " + stack.shards
            + " shards, controller, migration worker, query router ...");
        Thresholds thresholds = Thresholds.newBuilder().setMinChunkAgeMillis(Duration.ofMinutes(1).toMillis()).build();
        BalancerSettings balancer = BalancerSettings.defaults().withDecisionWindow(decisionWindow)
            .withShardCooldown(decisionWindow.multipliedBy(6)).withMinActiveShards(Math.max(1, stack.shards - 1));
        CountDownLatch interrupted = new CountDownLatch(1);
        CountDownLatch reported = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            interrupted.countDown();
            awaitQuietly(reported);
        }, "shardline-demo-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        WriteLedger ledger = new WriteLedger();
        AtomicReference<AuthWorkload> workload = new AtomicReference<>();
        LocalStack.Preparation load = local -> {
            workload.set(new AuthWorkload(local.router().router(), local.router().mongoUri(), ledger, local.meters(), rate, quietRate, clients, seed));
            long bytes = (long) (seedShare * shardCapacityBytes * stack.shards);
            long documents = workload.get().seed(bytes, seed);
            output.line("Loaded the auth service's existing data through the router: " + documents + " documents.");
        };
        // Started first, closed last: once promoted, the standby is a shard whose connectors stop with the cluster.
        try (EmbeddedShard standby = failover ? EmbeddedShard.start("demo-standby") : null;
             LocalStack local = LocalStack.start(new LocalStack.Spec(stack, thresholds, balancer, gracePeriod, load))) {
            Map<String, String> urls = new LinkedHashMap<>();
            urls.put("router", local.router().url() + "  (POST /v1/auth/users/find with X-Tenant-Id: acme; /metrics)");
            urls.put("mongo", local.router().mongoUri() + "  (the router's MongoDB wire protocol, for any driver or mongosh)");
            urls.put("kafka", local.cluster().bootstrapServers());
            urls.put("connect", local.cluster().connectUrl());
            urls.put("registry", local.cluster().schemaRegistryUrl());
            urls.put("admin", local.endpoints().get("ADMIN_URL") + "  (Authorization: Bearer " + local.endpoints().get("ADMIN_TOKEN") + ")");
            output.line("Ready in " + local.millisSinceStart() + " ms.");
            urls.forEach((name, url) -> output.line("  " + name + " " + url));
            output.line("MONGO_ROUTER_URI=" + local.router().mongoUri());
            output.line("For the operator commands in another terminal: export SHARDLINE_BOOTSTRAP=" + local.cluster().bootstrapServers()
                + " SHARDLINE_REGISTRY_URL=" + local.cluster().schemaRegistryUrl()
                + (stack.topicPrefix.equals(TopicCatalog.DEFAULT_PREFIX) ? "" : " SHARDLINE_TOPIC_PREFIX=" + stack.topicPrefix));
            int code = run(local, standby, workload.get(), ledger, output, urls, interrupted);
            reported.countDown();
            return code;
        } finally {
            reported.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The JVM is already stopping because of Ctrl-C: the hook is running and waits for nothing more.
                output.line("stopped.");
            }
        }
    }

    /** The workload's failed requests when the failover was published; -1 until then. */
    private long failuresAtFailover = -1;

    private int run(LocalStack local, EmbeddedShard standby, AuthWorkload workload, WriteLedger ledger, DemoOutput output, Map<String, String> urls,
                    CountDownLatch interrupted) throws Exception {
        Map<String, MongoClient> shards = new LinkedHashMap<>();
        local.cluster().shards().forEach((id, shard) -> shards.put(id, MongoClients.create(shard.connectionString())));
        try (ClusterWatch watch = new ClusterWatch(local.cluster().bootstrapServers(), local.cluster().catalog(), Duration.ofMillis(500));
             ControlPlaneClient plane = new ControlPlaneClient(local.cluster().bootstrapServers(), local.cluster().catalog(), "demo");
             PointInTimeDemo pointInTime = new PointInTimeDemo(plane, local.dir().resolve("backups"))) {
            FailoverDemo failing = standby == null ? null : failoverDemo(plane, local, standby);
            watch.start(new ClusterWatch.Listener() {
                @Override
                public void event(ShardEvent event) {
                    output.event(event);
                }

                @Override
                public void migrationStep(MigrationState state) {
                    output.migration(state);
                }
            });
            Map<String, Long> before;
            long begin;
            try {
                before = census(shards);
                awaitSeedSeen(watch, before, output, interrupted);
                begin = System.currentTimeMillis();
                workload.start();
                output.line("Workload running for " + DemoOutput.clock(duration) + " at " + rate + " requests/s; tenants are Zipf-sized, acme the biggest.");
                long deadline = begin + duration.toMillis();
                long opsMark = workload.operations();
                failuresAtFailover = -1;
                long timeMark = System.currentTimeMillis();
                double opsPerSecond = 0;
                while (System.currentTimeMillis() < deadline && !interrupted.await(1, TimeUnit.SECONDS)) {
                    long now = System.currentTimeMillis();
                    opsPerSecond = (workload.operations() - opsMark) * 1000.0 / Math.max(1, now - timeMark);
                    opsMark = workload.operations();
                    timeMark = now;
                    ClusterWatch.Snapshot snapshot = watch.snapshot();
                    // Once the split's move is cut over (the data at its peak, the merge at least a cooldown away), a third of the way in at the latest.
                    if (!pointInTime.started() && (workload.phase() != AuthWorkload.Phase.GROW || now - begin > duration.toMillis() / 3)) {
                        output.line("Backing up every shard while the workload runs, into " + local.dir().resolve("backups") + " ...");
                        pointInTime.backUp();
                    }
                    if (failing != null && !failing.killed() && pointInTime.started() && now - begin > duration.toMillis() / 2 && failing.standbyReady()
                        && failing.active()) {
                        output.line("Killing shard " + failing.shardId() + ": it stops answering; its standby should take over within seconds ...");
                        failing.kill(workload.failures());
                    }
                    if (failing != null && failing.killed() && failuresAtFailover < 0 && failing.failedOver(snapshot.events())) {
                        failuresAtFailover = workload.failures();
                    }
                    if (workload.phase() == AuthWorkload.Phase.GROW && (splitMoved(snapshot) || now - begin > growShare * duration.toMillis())) {
                        output.line("Traffic drops and retention purges expired sessions and old audit entries.");
                        workload.enter(AuthWorkload.Phase.RETENTION);
                    }
                    output.tick(snapshot, now - begin, duration.toMillis(), workload, opsPerSecond, urls);
                }
            } finally {
                workload.close();
            }
            long endedAt = System.currentTimeMillis();
            Duration ran = Duration.ofMillis(endedAt - begin);
            output.line("Workload stopped after " + DemoOutput.clock(ran) + "; waiting for running migrations to end, then checking every acknowledged write ...");
            awaitMigrations(watch, interrupted.getCount() == 0 ? Duration.ofSeconds(20) : gracePeriod.plusSeconds(90));
            watch.refresh();
            ClusterWatch.Snapshot last = watch.snapshot();
            // Read where each shard is now: a failed-over shard's documents are on its promoted standby.
            last.shards().forEach((id, shard) -> shards.merge(id, MongoClients.create(shard.getConnectionString()), (old, now) -> {
                old.close();
                return now;
            }));
            awaitCommitsResolved(shards);
            WriteLedger.Verdict verdict = ledger.check(shards, NAMESPACES, last.routing(), last.migrations().values().stream()
                .map(ClusterWatch.Migration::state).toList());
            TransactionLedger.Verdict transactions = workload.transactions().check(shards, last.routing(), workload::purged);
            output.line("Restoring every shard to a moment between the backups and the end, and checking it against the ledger ...");
            PointInTimeDemo.Outcome restored = pointInTime.restoreAndCheck(endedAt, ledger, NAMESPACES);
            List<String> failedOver = failing == null ? List.of() : failing.lines(last.events(), failuresAtFailover < 0 ? workload.failures() : failuresAtFailover);
            List<String> transactionLines = new java.util.ArrayList<>(List.of(transactions.line()));
            transactions.examples().forEach(example -> transactionLines.add("  " + example));
            output.report(DemoReport.render(ran, workload, verdict, before, census(shards), last,
                nextSteps()) + String.join("\n", restored.lines()) + "\n" + String.join("\n", transactionLines) + "\n"
                + (failedOver.isEmpty() ? "" : String.join("\n", failedOver) + "\n"));
            // A run too short to kill the shard (or stopped before) has nothing to fail; a shard killed and not failed over has.
            boolean failoverDone = failing == null || !failing.killed() || failing.failedOver(last.events());
            return verdict.clean() && restored.clean() && failoverDone && transactions.partial() == 0 ? 0 : ShardlineCli.EXIT_FAILURE;
        } finally {
            shards.values().forEach(MongoClient::close);
        }
    }

    /**
     * Gives the first shard the standby, for the kill mid-run: the biggest tenant lives there, so it is the shard the
     * demo splits from and never the one it merges away (a RETIRED shard is not watched, and its kill would show nothing).
     */
    private static FailoverDemo failoverDemo(ControlPlaneClient plane, LocalStack local, EmbeddedShard standby) {
        String shardId = new java.util.TreeSet<>(local.cluster().shards().keySet()).first();
        return new FailoverDemo(plane, shardId, local.cluster().shards().get(shardId), standby);
    }

    /** Whether a chunk moved because a shard was over its split thresholds has been cut over. */
    private static boolean splitMoved(ClusterWatch.Snapshot snapshot) {
        Set<String> commands = snapshot.events().stream()
            .filter(e -> e.getType() == ShardEventType.SPLIT_DECIDED || e.getType() == ShardEventType.MOVE_DECIDED)
            .map(ShardEvent::getCommandId).collect(Collectors.toSet());
        return snapshot.migrations().values().stream()
            .anyMatch(m -> commands.contains(m.state().getCommandId()) && m.entered().containsKey(MigrationPhase.CUT_OVER));
    }

    /**
     * Waits (up to 10 s) until no document of the demo holds a transaction's intent: a commit answers at its decision and
     * its intents are resolved just after, and the ledger's check reads the shards themselves.
     */
    private static void awaitCommitsResolved(Map<String, MongoClient> shards) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            long held = 0;
            for (MongoClient shard : shards.values()) {
                for (String namespace : NAMESPACES) {
                    int dot = namespace.indexOf('.');
                    try {
                        held += shard.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1))
                            .countDocuments(new org.bson.Document(IntentLayout.FIELD, new org.bson.Document("$exists", true)));
                    } catch (RuntimeException unreachable) {
                        return; // a shard that does not answer is reported by the checks themselves
                    }
                }
            }
            if (held == 0) {
                return;
            }
            Thread.sleep(20);
        }
    }

    /**
     * Waits (up to {@link #SEED_SEEN_BOUND}) until the controller's size table counts the documents loaded before the
     * workload, so that the workload's growth starts from the sizes the shards really have: the table follows the
     * shards' CDC topics, and catching up on the load while the workload runs would delay the first split by as long.
     */
    private static void awaitSeedSeen(ClusterWatch watch, Map<String, Long> loaded, DemoOutput output, CountDownLatch interrupted)
        throws InterruptedException {
        long documents = loaded.values().stream().mapToLong(Long::longValue).sum();
        long start = System.currentTimeMillis();
        long deadline = start + SEED_SEEN_BOUND.toMillis();
        long seen = 0;
        while (System.currentTimeMillis() < deadline && interrupted.getCount() > 0) {
            seen = watch.snapshot().stats().values().stream().mapToLong(ShardStats::getDocumentCount).sum();
            if (seen >= documents) {
                output.line("The controller's size table counts the " + documents + " documents loaded, after "
                    + (System.currentTimeMillis() - start) + " ms.");
                return;
            }
            interrupted.await(500, TimeUnit.MILLISECONDS);
        }
        output.line("The controller's size table counts " + seen + " of the " + documents + " documents loaded after "
            + (System.currentTimeMillis() - start) + " ms; starting the workload anyway.");
    }

    private static void awaitMigrations(ClusterWatch watch, Duration bound) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        while (System.nanoTime() < deadline && watch.snapshot().migrations().values().stream().anyMatch(m -> !m.ended())) {
            Thread.sleep(500);
        }
    }

    private static Map<String, Long> census(Map<String, MongoClient> shards) {
        Map<String, Long> documents = new LinkedHashMap<>();
        shards.forEach((id, client) -> {
            long count = 0;
            for (String namespace : NAMESPACES) {
                int dot = namespace.indexOf('.');
                count += client.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1), Document.class)
                    .countDocuments(Filters.exists("_sk"));
            }
            documents.put(id, count);
        });
        return documents;
    }

    /** What to try next; the demo's cluster is gone by then, so these start from {@code up}. */
    private static List<String> nextSteps() {
        return List.of(
            "./shardline up    # the same cluster without the workload; export SHARDLINE_BOOTSTRAP and SHARDLINE_REGISTRY_URL from what it prints",
            "./shardline status; ./shardline routing --ns auth.users",
            "./shardline move-chunk --ns auth.users --chunk min --to s2 --wait",
            "./shardline sql \"SELECT type, count(*) AS n FROM shard_events GROUP BY type ORDER BY n DESC\"",
            "./shardline sql \"SELECT namespace, source_shard, target_shard, phase, copied_docs FROM migrations\"",
            "curl -s -X POST -H 'X-Tenant-Id: acme' -d '{\"filter\": {}, \"limit\": 3}' $ROUTER_URL/v1/auth/users/find");
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(3, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
