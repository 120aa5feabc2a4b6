package io.shardline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controller.ControllerConfig;
import io.shardline.controller.ControllerNode;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.controlplane.TopicTail;
import io.shardline.core.key.KeyHex;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKeyStrategies;
import io.shardline.core.key.ShardKeyStrategy;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.SplitShard;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.testing.ShardContents;
import io.shardline.testing.ShardlineClusterExtension;
import io.shardline.testing.TestNames;
import io.shardline.topology.balancer.BalancerSettings;
import io.shardline.worker.MigrationWorker;
import io.shardline.worker.config.WorkerConfig;

/**
 * Zone sharding end to end, driven as an operator would: tenant acme pinned with {@code shardline zone} to zone eu,
 * which only s1 belongs to. An operator's rebalance spreads the other tenants' chunks over both shards and leaves
 * acme's on s1; the controller, with s1 filled past its split threshold and acme's the biggest chunk there, splits
 * another chunk to s2 instead; a tenant then pinned to a zone of s2 alone is moved there by the workers.
 */
@ExtendWith(ShardlineClusterExtension.class)
class ZoneIT {

    private static final Map<String, Integer> TENANTS = new LinkedHashMap<>();

    static {
        TENANTS.put("acme", 3_000);
        TENANTS.put("bravo", 300);
        TENANTS.put("globex", 300);
        TENANTS.put("initech", 300);
        TENANTS.put("oscorp", 300);
        TENANTS.put("umbrella", 300);
    }

    private EmbeddedCluster cluster;
    private TopicCatalog catalog;


    private CliRun run(String... args) {
        return CliRun.of(cluster, catalog, args);
    }

    @Test
    void shouldKeepAPinnedTenantOnItsZonesShardsThroughARebalanceAndTheControllersSplits(EmbeddedCluster cluster, TestNames names) throws Exception {
        this.cluster = cluster;
        this.catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        String ns = names.database() + ".users";
        ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), List.of("s1", "s2"), List.of(ns), (short) 1);
        NamespaceConfig config = NamespaceConfig.newBuilder().setNamespace(ns).setStrategy(ShardKeyStrategyType.TENANT)
            .setShardKeyFields(List.of("tenantId", "_id")).setTenantSuffixBuckets(16)
            .setThresholds(Thresholds.newBuilder().setSustainedWindows(2).build()).setEpoch(1).setVersion(1).build();
        ShardKeyStrategy strategy = ShardKeyStrategies.of(config);
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog);
             ControlPlaneClient plane = new ControlPlaneClient(cluster.bootstrapServers(), catalog);
             MongoClient s1 = MongoClients.create(cluster.shards().get("s1").connectionString());
             MongoClient s2 = MongoClients.create(cluster.shards().get("s2").connectionString());
             MigrationWorker worker = MigrationWorker.start(WorkerConfig.defaults(cluster.bootstrapServers(), catalog)
                 .withGroupId(names.applicationId("workers")).withGracePeriod(Duration.ofSeconds(1)), new SimpleMeterRegistry())) {
            for (String shard : List.of("s1", "s2")) {
                publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shard).setConnectionString(cluster.shards().get(shard).connectionString())
                    .setCapacityBytes(1L << 40).setCapacityOpsPerSec(1_000_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
            }
            publisher.publishConfig(config);
            publisher.publishRouting(ns, InitialChunks.layout(ns, 1, InitialChunks.valueBoundaries(InitialChunks.letterBoundaries(4)),
                List.of("s1", "s1", "s1", "s1")));
            MongoCollection<Document> onS1 = s1.getDatabase(names.database()).getCollection("users");
            TENANTS.forEach((tenant, count) -> {
                List<Document> batch = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    Document doc = new Document("_id", tenant + "-" + i).append("tenantId", tenant).append("pad", "x".repeat(200));
                    batch.add(doc.append("_sk", strategy.keyOf(doc).toHex()));
                }
                onS1.insertMany(batch);
            });
            KeyRange acme = strategy.rangeOfLeadingValue("acme");

            // An operator pins acme to zone eu, of s1 alone: its keys become chunks of their own, on s1.
            CliRun joined = run("zone", "add-shard", "--zone", "eu", "--shard", "s1", "--wait", "--wait-timeout", "1m");
            assertThat(joined.exit()).as(joined.out() + joined.err()).isZero();
            CliRun pinned = run("zone", "pin", "--ns", ns, "--zone", "eu", "--tenant", "acme", "--wait", "--wait-timeout", "1m");
            assertThat(pinned.exit()).as(pinned.out() + pinned.err()).isZero();
            assertThat(pinned.out()).contains("pinned to zone eu");
            awaitRouting(plane, ns, routes -> routes.stream().anyMatch(r -> KeyHex.of(r.getMin()).equals(acme.min().toHex())), "acme's chunk of its own");
            CliRun refused = run("move-chunk", "--ns", ns, "--chunk", acme.min().toHex(), "--to", "s2");
            assertThat(refused.exit()).as("a move of acme's chunk out of its zone").isEqualTo(2);
            assertThat(refused.err()).contains("--to", "zone eu");
            assertThat(run("zone", "list").out()).contains("eu", "s1", ns, "acme");

            // An operator's rebalance: the other chunks spread over s1 and s2, acme's stay on s1.
            CliRun rebalance = run("rebalance", "--ns", ns, "--wait", "--wait-timeout", "3m");
            assertThat(rebalance.exit()).as(rebalance.out() + rebalance.err()).isZero();
            List<ChunkRoute> routes = plane.routing(ns);
            assertThat(routes).filteredOn(r -> !inside(r, acme)).extracting(ChunkRoute::getShardId).contains("s1", "s2");
            assertThat(routes).filteredOn(r -> inside(r, acme)).extracting(ChunkRoute::getShardId).containsOnly("s1");
            assertAcmeOnS1(s1, s2, names.database());

            // The controller, s1 past its split threshold with acme's chunk its biggest: the split it decides is another chunk's.
            long held = ShardContents.dataBytes(s1);
            ShardDescriptor current = plane.shards().get("s1");
            publisher.publishShard(ShardDescriptor.newBuilder(current).setCapacityBytes((long) (held / 0.9)).setVersion(current.getVersion() + 1)
                .setUpdatedAt(Instant.now()).build());
            try (TopicTail<ShardCommand> commands = new TopicTail<>(cluster.bootstrapServers(), catalog.commands(), false, catalog.controlDlq().name(), "test");
                 ControllerNode controller = ControllerNode.start(ControllerConfig.defaults(cluster.bootstrapServers(), catalog,
                     Files.createTempDirectory("zone-controller-")).withBalancer(BalancerSettings.defaults().withDecisionWindow(Duration.ofSeconds(1))
                     .withMinActiveShards(2)), new SimpleMeterRegistry(), Duration.ofSeconds(60))) {
                SplitShard split = awaitSplit(commands, ns);
                assertThat(split.getShardId()).isEqualTo("s1");
                assertThat(split.getTargetShardId()).isEqualTo("s2");
                assertThat(acme.contains(io.shardline.core.key.ShardKey.ofBuffer(split.getChunkMin())))
                    .as("the controller split acme's chunk, pinned to s1, towards s2").isFalse();
            }
            Thread.sleep(3_000);
            awaitSettled(plane);
            assertThat(plane.routing(ns)).filteredOn(r -> inside(r, acme)).extracting(ChunkRoute::getShardId).containsOnly("s1");
            assertAcmeOnS1(s1, s2, names.database());

            // A tenant found on s1 is pinned to zone us, of s2 alone: the workers move it back into its zone.
            String tenant = TENANTS.keySet().stream().filter(t -> !t.equals("acme"))
                .filter(t -> owner(plane.routing(ns), strategy.rangeOfLeadingValue(t)).equals("s1")).findFirst().orElseThrow();
            KeyRange range = strategy.rangeOfLeadingValue(tenant);
            assertThat(run("zone", "add-shard", "--zone", "us", "--shard", "s2", "--wait", "--wait-timeout", "1m").exit()).isZero();
            assertThat(run("zone", "pin", "--ns", ns, "--zone", "us", "--tenant", tenant, "--wait", "--wait-timeout", "1m").exit()).isZero();
            awaitRouting(plane, ns, all -> all.stream().filter(r -> inside(r, range)).allMatch(r -> r.getShardId().equals("s2") && r.getMigrationId() == null)
                && all.stream().anyMatch(r -> inside(r, range)), tenant + "'s chunks on s2");
            awaitSettled(plane);
            assertThat(s2.getDatabase(names.database()).getCollection("users").countDocuments(Filters.eq("tenantId", tenant)))
                .as(tenant + "'s documents on s2").isEqualTo(TENANTS.get(tenant).longValue());
            assertThat(s1.getDatabase(names.database()).getCollection("users").countDocuments(Filters.eq("tenantId", tenant))).isZero();
            assertAcmeOnS1(s1, s2, names.database());
        }
    }

    private static boolean inside(ChunkRoute route, KeyRange range) {
        String min = KeyHex.of(route.getMin());
        return range.contains(io.shardline.core.key.ShardKey.ofBuffer(route.getMin()))
            && (range.max() == null || min.compareTo(range.max().toHex()) < 0);
    }

    private static String owner(List<ChunkRoute> routes, KeyRange range) {
        return routes.stream().filter(r -> inside(r, range) || KeyHex.of(r.getMin()).compareTo(range.min().toHex()) <= 0
                && (r.getMax() == null || KeyHex.of(r.getMax()).compareTo(range.min().toHex()) > 0))
            .map(ChunkRoute::getShardId).findFirst().orElse("none");
    }

    private static void assertAcmeOnS1(MongoClient s1, MongoClient s2, String database) {
        assertThat(s1.getDatabase(database).getCollection("users").countDocuments(Filters.eq("tenantId", "acme"))).isEqualTo(TENANTS.get("acme").longValue());
        assertThat(s2.getDatabase(database).getCollection("users").countDocuments(Filters.eq("tenantId", "acme"))).as("acme on s2").isZero();
    }

    private static void awaitRouting(ControlPlaneClient plane, String ns, java.util.function.Predicate<List<ChunkRoute>> wanted, String what)
        throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < deadline) {
            if (wanted.test(plane.routing(ns))) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("never got " + what + "; routing " + plane.routing(ns));
    }

    /** Waits until no migration is unfinished. */
    private static void awaitSettled(ControlPlaneClient plane) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        while (System.nanoTime() < deadline) {
            if (plane.migrations().values().stream().allMatch(io.shardline.schemas.MigrationPhases::ended)) {
                return;
            }
            Thread.sleep(300);
        }
        throw new AssertionError("migrations did not end: " + plane.migrations().values());
    }

    private static SplitShard awaitSplit(TopicTail<ShardCommand> commands, String ns) {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < deadline) {
            for (var appended : commands.poll(Duration.ofMillis(500))) {
                if (appended.value() != null && appended.value().getCommand() instanceof SplitShard split && split.getNamespace().equals(ns)) {
                    return split;
                }
            }
        }
        throw new AssertionError("the controller decided no split of " + ns);
    }
}
