package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.Scope;
import io.shardline.controlplane.TopicTail;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.testing.NetworkNamespace;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * The crash matrix: a coordinator (a router in a process of its own, {@link CoordinatorProcess}) is killed with
 * SIGKILL after the intent on one shard is written, after both are, after its COMMITTED decision is on the log, and
 * half-way through applying it. Another router finishes the transaction within the bound: aborted on every shard when
 * it was not decided, committed on every shard when it was; never half.
 */
@ShardlineCluster
class TransactionCrashIT {

    private static final Duration BOUND = Duration.ofSeconds(10);
    private static final Scope ACME = Scope.tenant("acme");

    private static EmbeddedCluster cluster;
    private static RouterFixture fixture;
    private static ShardRouter survivor;
    private static Map<String, MongoClient> shards;
    private static String users;
    private static String audit;
    private static String topicPrefix;

    @BeforeAll
    static void start(EmbeddedCluster embedded, TestNames names) throws Exception {
        cluster = embedded;
        topicPrefix = names.topicPrefix();
        fixture = new RouterFixture(cluster, topicPrefix);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        users = names.database() + ".users";
        audit = names.database() + ".audit";
        for (String namespace : List.of(users, audit)) {
            fixture.namespace(namespace, ShardKeyStrategyType.HASHED, List.of("_id"),
                InitialChunks.layout(namespace, 1, InitialChunks.hashedBoundaries(2), List.of("s1", "s2")));
        }
        survivor = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog), new SimpleMeterRegistry(), Duration.ofSeconds(60));
        shards = Map.of("s1", MongoClients.create(cluster.shards().get("s1").connectionString()),
            "s2", MongoClients.create(cluster.shards().get("s2").connectionString()));
    }

    @AfterAll
    static void stop() throws Exception {
        if (shards != null) {
            shards.values().forEach(MongoClient::close);
        }
        if (survivor != null) {
            survivor.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"one-prepared", "all-prepared", "decided", "resolving"})
    void shouldEndATransactionWholeOnEveryShardAfterItsCoordinatorIsKilled(String step) throws Exception {
        String userId = keyOn(users, "s1", "user-" + step + "-");
        String auditId = keyOn(audit, "s2", "audit-" + step + "-");
        survivor.insert(ACME, users, List.of(new Document("_id", userId).append("plan", "free")));

        Path log = Files.createTempFile("coordinator-" + step, ".log");
        Process coordinator = new ProcessBuilder(NetworkNamespace.javaCommand(CoordinatorProcess.class.getName(), cluster.bootstrapServers(),
                cluster.schemaRegistryUrl(), topicPrefix, step, users, audit, userId, auditId, cluster.shards().get("s1").connectionString()))
            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        String txnId = awaitStep(coordinator, log, step);
        assertThat(((Document) stored(audit, "s2", auditId).get("_tx")).get("id")).as("the inserted audit entry's intent").isEqualTo(txnId);
        boolean userHeld = step.equals("all-prepared") || step.equals("decided");
        assertThat(held(users, "s1", userId)).as("the user's intent at " + step).isEqualTo(userHeld);
        coordinator.destroyForcibly();
        assertThat(coordinator.waitFor(30, TimeUnit.SECONDS)).isTrue();
        long killed = System.nanoTime();

        long deadline = killed + BOUND.toNanos() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline && (held(users, "s1", userId) || held(audit, "s2", auditId))) {
            Thread.sleep(20);
        }
        long resolvedMillis = (System.nanoTime() - killed) / 1_000_000;
        boolean committed = step.equals("decided") || step.equals("resolving");
        System.out.printf("crash after %s: %s on every shard %d ms after SIGKILL%n", step, committed ? "committed" : "aborted", resolvedMillis);
        assertThat(held(users, "s1", userId) || held(audit, "s2", auditId)).as("an intent left after the bound").isFalse();
        assertThat(resolvedMillis).as("resolved within the bound").isLessThanOrEqualTo(BOUND.toMillis());

        Document user = stored(users, "s1", userId);
        Document entry = stored(audit, "s2", auditId);
        if (committed) {
            assertThat(user.get("plan")).isEqualTo("paid");
            assertThat(entry).as("the audit entry on the other shard").isNotNull();
        } else {
            assertThat(user.get("plan")).isEqualTo("free");
            assertThat(entry).as("the audit entry on the other shard").isNull();
        }
        assertThat(survivor.find(ACME, audit, FindRequest.of(new Document("_id", auditId))).documents()).hasSize(committed ? 1 : 0);
        try (TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), true, fixture.catalog.controlDlq().name(), "test")) {
            assertThat(TransactionsIT.recoveries(events, txnId)).extracting(TopicTail.Appended::value)
                .filteredOn(event -> event.getType() == ShardEventType.TRANSACTION_RECOVERED && event.getReason().contains(txnId))
                .as("the recovery's event").singleElement()
                .satisfies(event -> assertThat(event.getReason()).contains(committed ? "committed" : "aborted"));
        }
    }

    private static String awaitStep(Process coordinator, Path log, String step) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            for (String line : Files.readAllLines(log)) {
                if (line.startsWith(CoordinatorProcess.AT + step + " ")) {
                    return line.substring((CoordinatorProcess.AT + step + " ").length()).trim();
                }
            }
            if (!coordinator.isAlive()) {
                throw new IllegalStateException("the coordinator exited before " + step + ": " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        coordinator.destroyForcibly();
        throw new IllegalStateException("the coordinator did not reach " + step + ": " + Files.readString(log));
    }

    private static Document stored(String namespace, String shard, Object id) {
        String[] parts = namespace.split("\\.", 2);
        return shards.get(shard).getDatabase(parts[0]).getCollection(parts[1]).find(new Document("_id", id)).first();
    }

    private static boolean held(String namespace, String shard, Object id) {
        Document document = stored(namespace, shard, id);
        return document != null && document.containsKey("_tx");
    }

    private static String keyOn(String namespace, String shard, String prefix) {
        for (int i = 0; ; i++) {
            String key = prefix + i;
            if (survivor.explain(Scope.service(), namespace, new Document("_id", key)).shards().equals(List.of(shard))) {
                return key;
            }
        }
    }
}
