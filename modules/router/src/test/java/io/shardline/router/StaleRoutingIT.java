package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.bson.BsonDocument;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.key.KeyRange;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.RangeRelease;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.FindResult;
import io.shardline.router.api.RouterException;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * Stale routing: a range deleted from its old owner after a move, read by a router that has not applied the move.
 * The old owner holds a release record (as the migration worker writes it before deleting); the router finds it,
 * refreshes its routing and reads again, or fails the read as retryable when the routing does not come.
 */
@ShardlineCluster
class StaleRoutingIT {

    private static final int DOCUMENTS = 40;

    private static RouterFixture fixture;
    private static String database;
    private static MongoClient s1;
    private static MongoClient s2;

    @BeforeAll
    static void start(EmbeddedCluster cluster, TestNames names) {
        fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        database = names.database();
        s1 = MongoClients.create(cluster.shards().get("s1").connectionString());
        s2 = MongoClients.create(cluster.shards().get("s2").connectionString());
    }

    @AfterAll
    static void stop() {
        fixture.publisher.close();
        s1.close();
        s2.close();
    }

    private static RouterConfig config(String id) {
        return RouterConfig.defaults(fixture.cluster.bootstrapServers(), fixture.catalog).withRouterId(id)
            .withShardTimeout(Duration.ofMillis(400));
    }

    /** A namespace in one chunk on s1 with {@value #DOCUMENTS} documents of tenant acme, written through a router. */
    private static Chunk layout(ShardRouter router, String collection) throws InterruptedException {
        String ns = database + "." + collection;
        Chunk whole = Chunk.active(ns, KeyRange.ALL, "s1", 1, 1);
        long before = router.routingVersion();
        fixture.namespace(ns, ShardKeyStrategyType.TENANT, List.of("tenantId"), List.of(whole));
        router.awaitRoutingVersionAbove(before, Duration.ofSeconds(10));
        List<Document> documents = new ArrayList<>();
        for (int i = 0; i < DOCUMENTS; i++) {
            documents.add(new Document("_id", collection + "-" + i).append("n", i));
        }
        router.insert("acme", ns, documents);
        return whole;
    }

    /** What a migration to s2 leaves behind once its grace period is over: the range on s2, gone from s1, a release record on s1. */
    private static void moveAndCleanWithoutRouting(Chunk chunk, long releaseVersion) {
        MongoCollection<Document> from = collection(s1, chunk.namespace());
        List<Document> copied = from.find().into(new ArrayList<>());
        collection(s2, chunk.namespace()).insertMany(copied);
        s1.getDatabase(RangeRelease.DATABASE).getCollection(RangeRelease.COLLECTION, BsonDocument.class)
            .insertOne(new RangeRelease(chunk.namespace(), chunk.range(), "s2", "m-" + chunk.namespace(), releaseVersion).toDocument());
        from.deleteMany(new Document());
    }

    private static MongoCollection<Document> collection(MongoClient client, String ns) {
        int dot = ns.indexOf('.');
        return client.getDatabase(ns.substring(0, dot)).getCollection(ns.substring(dot + 1));
    }

    @Test
    void shouldRefreshItsRoutingAndReadAgainWhenTheShardItReadReleasedTheRange() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (ShardRouter router = ShardRouter.start(config("r-refresh").withReleaseCheck(RouterConfig.ReleaseCheck.EVERY_READ),
            meters, Duration.ofSeconds(30))) {
            Chunk chunk = layout(router, "refreshed");
            long version = router.routingVersion();
            moveAndCleanWithoutRouting(chunk, version + 1);

            Thread cutover = new Thread(() -> {
                sleep(150);
                fixture.publisher.publishChunk(chunk.withOwner("s2", 2, io.shardline.schemas.avro.ChunkState.ACTIVE, null));
            });
            cutover.start();
            FindResult found = router.find("acme", chunk.namespace(), FindRequest.of(new Document()));
            long counted = router.count("acme", chunk.namespace(), new Document(), false);
            cutover.join();

            assertThat(found.documents()).hasSize(DOCUMENTS);
            assertThat(found.shards()).containsExactly("s2");
            assertThat(counted).isEqualTo(DOCUMENTS);
            assertThat(meters.get("router.stale.routing").counter().count()).as("reads refused as stale").isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void shouldFailTheReadAsRetryableNamingTheRangeWhenTheRoutingDoesNotCatchUp() throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (ShardRouter router = ShardRouter.start(config("r-behind").withReleaseCheck(RouterConfig.ReleaseCheck.EVERY_READ),
            meters, Duration.ofSeconds(30))) {
            Chunk chunk = layout(router, "unreachable");
            moveAndCleanWithoutRouting(chunk, router.routingVersion() + 1_000);

            assertThatThrownBy(() -> router.find("acme", chunk.namespace(), FindRequest.of(new Document())))
                .isInstanceOf(RouterException.class)
                .hasMessageContaining("shard s1 no longer holds")
                .hasMessageContaining("moved to s2")
                .extracting(e -> ((RouterException) e).kind()).isEqualTo(RouterException.Kind.RETRYABLE);
            assertThat(meters.get("router.stale.routing").counter().count()).as("three attempts").isEqualTo(3);
        }
    }

    @Test
    void shouldCheckOnlyWhileItsLeaseHasLapsedByDefault() throws Exception {
        try (ShardRouter router = ShardRouter.start(config("r-lapsing").withSignalInterval(Duration.ofSeconds(30))
            .withLeaseDuration(Duration.ofSeconds(2)), new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
            Chunk chunk = layout(router, "lapsing");
            moveAndCleanWithoutRouting(chunk, router.routingVersion() + 1_000);
            assertThat(router.leaseValid()).isTrue();

            assertThat(router.find("acme", chunk.namespace(), FindRequest.of(new Document())).documents())
                .as("with a lease, the routing is trusted and the shard not asked").isEmpty();

            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (router.leaseValid() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(router.leaseValid()).isFalse();
            assertThatThrownBy(() -> router.find("acme", chunk.namespace(), FindRequest.of(new Document())))
                .isInstanceOf(RouterException.class)
                .hasMessageContaining("shard s1 no longer holds");
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
