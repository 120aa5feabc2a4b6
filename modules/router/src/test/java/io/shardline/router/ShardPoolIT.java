package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.key.KeyRange;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.FindResult;
import io.shardline.router.api.RouterException;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * The router's connection pool to each shard on real shards. The one connection of a pool of size 1 is held by a
 * request that waits on the shard until the test lets it go (a change-stream {@code getMore} with a long
 * {@code maxTimeMS}, answered when the test writes to the watched collection), so which requests find no free
 * connection does not depend on how fast anything runs.
 */
@ShardlineCluster
class ShardPoolIT {

    private static final int CONCURRENT = 8;
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    private static RouterFixture fixture;
    private static String db;
    private static String single;
    private static String spread;
    private static MongoClient s1Direct;
    private static final ExecutorService THREADS = Executors.newCachedThreadPool();

    @BeforeAll
    static void layout(EmbeddedCluster cluster, TestNames names) throws Exception {
        fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        db = names.database();
        single = db + ".single";
        spread = db + ".spread";
        fixture.namespace(single, ShardKeyStrategyType.TENANT, List.of("tenantId"), List.of(Chunk.active(single, KeyRange.ALL, "s1", 1, 1)));
        fixture.namespace(spread, ShardKeyStrategyType.HASHED, List.of("_id"),
            InitialChunks.layout(spread, 1, InitialChunks.hashedBoundaries(4), List.of("s1", "s2")));
        s1Direct = MongoClients.create(cluster.shards().get("s1").connectionString());
        s1Direct.getDatabase(db).getCollection("watched").insertOne(new Document("_id", "created"));
        try (ShardRouter router = fixture.router()) {
            router.insert("acme", single, List.of(new Document("_id", "a1").append("name", "Ada")));
            List<Document> spreadDocuments = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                spreadDocuments.add(new Document("_id", "d" + i));
            }
            router.insert("acme", spread, spreadDocuments);
            FindResult all = router.find("acme", spread, FindRequest.of(new Document()));
            assertThat(all.shards()).containsExactlyInAnyOrder("s1", "s2");
            assertThat(all.documents()).hasSize(20);
        }
    }

    @AfterAll
    static void stop() {
        THREADS.shutdownNow();
        s1Direct.close();
    }

    private static ShardRouter start(RouterConfig config, MeterRegistry registry) throws InterruptedException {
        return ShardRouter.start(config, registry, Duration.ofSeconds(60));
    }

    private static RouterConfig config() {
        return RouterConfig.defaults(fixture.cluster.bootstrapServers(), fixture.catalog);
    }

    private static DoubleSupplier gauge(MeterRegistry registry, String name) {
        return () -> registry.get(name).tag("shard", "s1").gauge().value();
    }

    private static void awaitValue(DoubleSupplier gauge, double expected, String what) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (gauge.getAsDouble() != expected) {
            assertThat(System.nanoTime()).as("%s reaches %s (is %s)", what, expected, gauge.getAsDouble()).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    /**
     * A request that holds one connection of the router to s1 until {@link #close}: a {@code getMore} on a change stream
     * of {@code watched}, which the shard answers only when an event arrives.
     */
    private static final class HeldConnection implements AutoCloseable {
        private final ShardRouter router;
        private final long cursorId;
        private final Future<?> getMore;

        HeldConnection(ShardRouter router, MeterRegistry registry) throws InterruptedException {
            this.router = router;
            Document opened = router.runOnShards(Set.of("s1"), db, new Document("aggregate", "watched")
                .append("pipeline", List.of(new Document("$changeStream", new Document()))).append("cursor", new Document())).get("s1");
            this.cursorId = opened.get("cursor", Document.class).get("id", Number.class).longValue();
            this.getMore = THREADS.submit(() -> router.runOnShards(Set.of("s1"), db,
                new Document("getMore", cursorId).append("collection", "watched").append("maxTimeMS", PATIENCE.toMillis())));
            awaitValue(gauge(registry, "shard.connection.in.use"), 1, "connections to s1 in use while the getMore waits");
        }

        @Override
        public void close() throws Exception {
            s1Direct.getDatabase(db).getCollection("watched").insertOne(new Document("_id", "wake-" + cursorId));
            getMore.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
            router.runOnShards(Set.of("s1"), db, new Document("killCursors", "watched").append("cursors", List.of(cursorId)));
        }
    }

    /** Connections to a shard unused for the pool's idle time are closed; with no idle time they stay open. */
    @Test
    void shouldCloseAConnectionToAShardUnusedForThePoolsIdleTime() throws Exception {
        MeterRegistry closing = new SimpleMeterRegistry();
        try (ShardRouter router = start(config().withShardPoolIdle(Duration.ofMillis(300)), closing)) {
            new HeldConnection(router, closing).close();
            assertThat(gauge(closing, "shard.connection.count").getAsDouble()).as("connections open after the request").isPositive();
            awaitValue(gauge(closing, "shard.connection.count"), 0, "connections to s1 once idle for 300 ms");
        }
        MeterRegistry keeping = new SimpleMeterRegistry();
        try (ShardRouter router = start(config(), keeping)) {
            new HeldConnection(router, keeping).close();
            Thread.sleep(1_500);
            assertThat(gauge(keeping, "shard.connection.count").getAsDouble()).as("connections open 1.5 s after the request, no idle time")
                .isPositive();
        }
    }

    /** Runs {@code CONCURRENT} finds on {@code single} at once; each outcome is its answer's size or its failure. */
    private static List<Object> concurrentFinds(ShardRouter router) throws InterruptedException {
        List<CompletableFuture<Object>> running = new ArrayList<>();
        for (int i = 0; i < CONCURRENT; i++) {
            running.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return router.find("acme", single, FindRequest.of(new Document("_id", "a1"))).documents().size();
                } catch (RuntimeException failed) {
                    return failed;
                }
            }, THREADS));
        }
        List<Object> outcomes = new ArrayList<>();
        for (CompletableFuture<Object> request : running) {
            try {
                outcomes.add(request.get(PATIENCE.toSeconds(), TimeUnit.SECONDS));
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                throw new AssertionError("a find did not finish", e);
            }
        }
        return outcomes;
    }

    @Test
    void shouldFailRequestsThatFindNoFreeConnectionInTimeAsRetryableNamingTheShardAndThePoolSize() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        try (ShardRouter router = start(config().withShardPoolSize(1).withShardPoolWait(Duration.ofMillis(200)), registry)) {
            try (HeldConnection held = new HeldConnection(router, registry)) {
                List<Object> outcomes = concurrentFinds(router);

                assertThat(outcomes).hasSize(CONCURRENT).allSatisfy(outcome -> {
                    assertThat(outcome).isInstanceOf(RouterException.class);
                    RouterException failure = (RouterException) outcome;
                    assertThat(failure.kind()).isEqualTo(RouterException.Kind.RETRYABLE);
                    assertThat(failure.getMessage()).contains("shard s1", "pool size 1", "200 ms");
                });
                assertThatThrownBy(() -> router.insert("acme", single, List.of(new Document("_id", "a2"))))
                    .isInstanceOfSatisfying(RouterException.class, e -> {
                        assertThat(e.kind()).isEqualTo(RouterException.Kind.RETRYABLE);
                        assertThat(e.getMessage()).contains("shard s1", "pool size 1");
                    });
                assertThatThrownBy(() -> router.find("acme", spread, FindRequest.of(new Document())))
                    .isInstanceOfSatisfying(RouterException.class, e -> {
                        assertThat(e.kind()).isEqualTo(RouterException.Kind.RETRYABLE);
                        assertThat(e.getMessage()).contains("shard s1", "pool size 1");
                    });
                FindResult partial = router.find("acme", spread, new FindRequest(new Document(), null, 0, 0, null, true));
                assertThat(partial.partial()).isTrue();
                assertThat(partial.missingShards()).containsExactly("s1");
                assertThat(gauge(registry, "shard.connection.in.use").getAsDouble()).isEqualTo(1);
                assertThat(gauge(registry, "shard.connection.wait.queue").getAsDouble()).isZero();
            }

            awaitValue(gauge(registry, "shard.connection.in.use"), 0, "connections to s1 in use once the getMore answered");
            assertThat(concurrentFinds(router)).containsOnly(1);
            assertThat(router.find("acme", single, FindRequest.of(new Document("_id", "a2"))).documents()).isEmpty();
            assertThat(gauge(registry, "shard.connection.max").getAsDouble()).isEqualTo(1);
            assertThat(gauge(registry, "shard.connection.count").getAsDouble()).isEqualTo(1);
            awaitValue(gauge(registry, "shard.connection.in.use"), 0, "connections to s1 in use after the finds");
            assertThat(gauge(registry, "shard.connection.wait.queue").getAsDouble()).isZero();
        }
    }

    @Test
    void shouldHoldARequestInTheWaitQueueWhileThePoolIsFullAndServeItWhenAConnectionComesFree() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        try (ShardRouter router = start(config().withShardPoolSize(1).withShardPoolWait(PATIENCE), registry)) {
            Future<FindResult> waiting;
            try (HeldConnection held = new HeldConnection(router, registry)) {
                waiting = THREADS.submit(() -> router.find("acme", single, FindRequest.of(new Document("_id", "a1"))));
                awaitValue(gauge(registry, "shard.connection.wait.queue"), 1, "requests waiting for a connection to s1");

                assertThat(waiting).isNotDone();
                assertThat(gauge(registry, "shard.connection.in.use").getAsDouble()).isEqualTo(1);
            }

            assertThat(waiting.get(PATIENCE.toSeconds(), TimeUnit.SECONDS).documents()).extracting(d -> d.getString("name")).containsExactly("Ada");
            awaitValue(gauge(registry, "shard.connection.in.use"), 0, "connections to s1 in use once both requests answered");
            assertThat(gauge(registry, "shard.connection.wait.queue").getAsDouble()).isZero();
            assertThat(gauge(registry, "shard.connection.max").getAsDouble()).isEqualTo(1);
        }
    }

    @Test
    void shouldServeTheSameConcurrencyWithAPoolOfTheDefaultSize() throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        // The default size; the wait is long so that how fast connections open under load does not matter here.
        try (ShardRouter router = start(config().withShardPoolWait(PATIENCE), registry)) {
            try (HeldConnection held = new HeldConnection(router, registry)) {
                assertThat(concurrentFinds(router)).hasSize(CONCURRENT).containsOnly(1);
                assertThat(router.find("acme", spread, FindRequest.of(new Document())).documents()).hasSize(20);
                assertThat(gauge(registry, "shard.connection.in.use").getAsDouble()).isEqualTo(1);
            }

            awaitValue(gauge(registry, "shard.connection.in.use"), 0, "connections to s1 in use after the requests");
            assertThat(gauge(registry, "shard.connection.max").getAsDouble()).isEqualTo(100);
            assertThat(gauge(registry, "shard.connection.count").getAsDouble()).isGreaterThan(1);
            assertThat(gauge(registry, "shard.connection.wait.queue").getAsDouble()).isZero();
        }
    }
}
