package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoServerException;
import com.mongodb.MongoWriteException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.CreateCollectionOptions;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.wire.WireServer;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * Index and collection administration through the wire router, driven by the MongoDB Java driver, each shard read
 * directly: indexes created, listed and dropped on all three shards, a unique index enforced by the owning shard, the
 * shard-key index kept and hidden, {@code drop} refused, {@code create} on every shard, and a failing shard named.
 */
@ShardlineCluster
class WireAdminIT {

    private static RouterFixture fixture;
    private static EmbeddedShard s3;
    private static ShardRouter router;
    private static WireServer wire;
    private static MongoClient client;
    private static String database;
    /** Each shard read directly, by id. */
    private static final Map<String, MongoClient> SHARDS = new LinkedHashMap<>();

    @BeforeAll
    static void start(EmbeddedCluster cluster, TestNames names) throws Exception {
        fixture = new RouterFixture(cluster, names);
        s3 = fixture.registerThreeShards(names);
        database = names.database();
        // Tenants below "h" live on s1, from "h" to "p" on s2, from "p" on s3.
        for (String collection : List.of("people", "fresh", "strays")) {
            String namespace = database + "." + collection;
            fixture.namespace(namespace, ShardKeyStrategyType.TENANT, List.of("tenantId"),
                InitialChunks.layout(namespace, 1, InitialChunks.valueBoundaries(List.of("h", "p")), List.of("s1", "s2", "s3")));
        }
        router = fixture.router();
        wire = WireServer.start(router, WireServer.Settings.defaults(0));
        client = MongoClients.create(wire.uri());
        SHARDS.put("s1", MongoClients.create(cluster.shards().get("s1").connectionString()));
        SHARDS.put("s2", MongoClients.create(cluster.shards().get("s2").connectionString()));
        SHARDS.put("s3", MongoClients.create(s3.connectionString()));
        // The shard-key index, as init creates it.
        SHARDS.values().forEach(shard -> shard.getDatabase(database).getCollection("people").createIndex(Indexes.ascending("_sk")));
        people().insertMany(List.of(new Document("_id", "a1").append("tenantId", "acme").append("name", "Ada"),
            new Document("_id", "k1").append("tenantId", "k-corp").append("name", "Kim"),
            new Document("_id", "z1").append("tenantId", "zeta").append("name", "Zoe")));
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        for (MongoClient shard : SHARDS.values()) {
            shard.close();
        }
        wire.close();
        router.close();
        s3.close();
        fixture.publisher.close();
    }

    private static MongoCollection<Document> people() {
        return client.getDatabase(database).getCollection("people");
    }

    /** The names of a collection's indexes on one shard, read directly. */
    private static List<String> indexesOn(String shard, String collection) {
        return SHARDS.get(shard).getDatabase(database).getCollection(collection).listIndexes().map(index -> index.getString("name"))
            .into(new ArrayList<>());
    }

    @Test
    void shouldCreateAnIndexOnEveryShardListItAndDropItEverywhere() {
        Document created = client.getDatabase(database).runCommand(new Document("createIndexes", "people")
            .append("indexes", List.of(new Document("key", new Document("name", 1)).append("name", "name_1"))));

        assertThat(created.get("ok", Number.class).doubleValue()).isEqualTo(1.0);
        assertThat(created.getInteger("numIndexesAfter")).isEqualTo(created.getInteger("numIndexesBefore") + 1);
        assertThat(created).containsKey("createdCollectionAutomatically");
        assertThat(created.get("raw", Document.class).keySet()).containsExactly("s1", "s2", "s3");
        for (String shard : SHARDS.keySet()) {
            assertThat(indexesOn(shard, "people")).as(shard).contains("_id_", "_sk_1", "name_1");
        }
        List<String> listed = people().listIndexes().batchSize(1).map(index -> index.getString("name")).into(new ArrayList<>());
        assertThat(listed).as("paged one by one; the shard-key index is Shardline's own").containsExactly("_id_", "name_1");

        people().dropIndex("name_1");

        for (String shard : SHARDS.keySet()) {
            assertThat(indexesOn(shard, "people")).as(shard).containsExactly("_id_", "_sk_1");
        }
        assertThatThrownBy(() -> people().dropIndex("name_1")).isInstanceOfSatisfying(MongoCommandException.class, e -> {
            assertThat(e.getErrorCode()).isEqualTo(27);
            assertThat(e.getErrorMessage()).contains("name_1");
        });
    }

    @Test
    void shouldDropEveryIndexButTheIdAndShardKeyIndexes() {
        people().createIndex(Indexes.ascending("name"));
        people().createIndex(Indexes.descending("tenantId", "name"));

        Document dropped = client.getDatabase(database).runCommand(new Document("dropIndexes", "people").append("index", "*"));

        assertThat(dropped.getInteger("nIndexesWas")).as("_id_, _sk_1 and the two").isEqualTo(4);
        for (String shard : SHARDS.keySet()) {
            assertThat(indexesOn(shard, "people")).as(shard).containsExactly("_id_", "_sk_1");
        }
    }

    @Test
    void shouldKeepTheShardKeyIndexToItself() {
        assertThatThrownBy(() -> people().dropIndex("_sk_1")).isInstanceOfSatisfying(MongoCommandException.class, e -> {
            assertThat(e.getErrorCode()).isEqualTo(72);
            assertThat(e.getErrorMessage()).contains("_sk");
        });
        assertThatThrownBy(() -> people().dropIndex(Indexes.ascending("_sk"))).isInstanceOfSatisfying(MongoCommandException.class,
            e -> assertThat(e.getErrorCode()).isEqualTo(72));
        assertThatThrownBy(() -> people().dropIndex("_id_")).isInstanceOfSatisfying(MongoCommandException.class,
            e -> assertThat(e.getErrorMessage()).contains("cannot drop _id index"));
        assertThatThrownBy(() -> people().createIndex(Indexes.ascending("tenantId", "_sk"))).isInstanceOfSatisfying(MongoCommandException.class, e -> {
            assertThat(e.getErrorCode()).isEqualTo(2);
            assertThat(e.getErrorMessage()).contains("_sk is reserved");
        });
        for (String shard : SHARDS.keySet()) {
            assertThat(indexesOn(shard, "people")).as(shard).contains("_sk_1");
        }
    }

    @Test
    void shouldRefuseADuplicateOnTheOwningShardThroughAUniqueIndex() {
        people().createIndex(Indexes.ascending("tenantId", "email"), new IndexOptions().unique(true).name("tenant_email"));
        try {
            people().insertOne(new Document("_id", "k2").append("tenantId", "k-corp").append("email", "kim@k.example"));
            people().insertOne(new Document("_id", "z2").append("tenantId", "zeta").append("email", "kim@k.example"));

            assertThatThrownBy(() -> people().insertOne(new Document("_id", "k3").append("tenantId", "k-corp").append("email", "kim@k.example")))
                .isInstanceOfSatisfying(MongoWriteException.class, e -> assertThat(e.getCode()).isEqualTo(11000));
            assertThat(SHARDS.get("s2").getDatabase(database).getCollection("people").countDocuments(new Document("email", "kim@k.example")))
                .as("the owner of k-corp").isEqualTo(1);
        } finally {
            people().deleteMany(new Document("_id", new Document("$in", List.of("k2", "z2"))));
            people().dropIndex("tenant_email");
        }
    }

    @Test
    void shouldRefuseAUniqueIndexTheShardsCouldNotEnforceTogether() {
        assertThatThrownBy(() -> people().createIndex(Indexes.ascending("email"), new IndexOptions().unique(true)))
            .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                assertThat(e.getErrorCode()).isEqualTo(67);
                assertThat(e.getErrorCodeName()).isEqualTo("CannotCreateIndex");
                assertThat(e.getErrorMessage()).contains("[tenantId]");
            });
        for (String shard : SHARDS.keySet()) {
            assertThat(indexesOn(shard, "people")).as(shard).doesNotContain("email_1");
        }
    }

    @Test
    void shouldRefuseToDropAShardedCollectionNamingWhy() {
        assertThatThrownBy(() -> people().drop()).isInstanceOfSatisfying(MongoCommandException.class, e -> {
            assertThat(e.getErrorCode()).isEqualTo(20);
            assertThat(e.getErrorCodeName()).isEqualTo("IllegalOperation");
            assertThat(e.getErrorMessage()).contains("sharded namespace", "no operator command");
        });
        assertThat(people().countDocuments()).as("nothing dropped").isGreaterThanOrEqualTo(3);
        // As on MongoDB, dropping what does not exist is no error to the driver.
        client.getDatabase(database).getCollection("nothing").drop();
    }

    @Test
    void shouldCreateTheCollectionOnEveryShardAndRefuseOptionsAndUnknownNamespaces() {
        client.getDatabase(database).createCollection("fresh");
        client.getDatabase(database).createCollection("fresh");

        for (MongoClient shard : SHARDS.values()) {
            assertThat(shard.getDatabase(database).listCollectionNames().into(new ArrayList<>())).contains("fresh");
        }
        assertThatThrownBy(() -> client.getDatabase(database).createCollection("unknown"))
            .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorCode()).isEqualTo(26));
        assertThatThrownBy(() -> client.getDatabase(database).createCollection("fresh", new CreateCollectionOptions().capped(true).sizeInBytes(4096)))
            .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                assertThat(e.getErrorCode()).isEqualTo(72);
                assertThat(e.getErrorMessage()).contains("capped");
            });
    }

    @Test
    void shouldNameTheShardThatRefusesAnIndexWithItsOwnError() {
        // Two documents s2 holds that a unique index cannot accept; s1 and s3 can take the index.
        SHARDS.get("s2").getDatabase(database).getCollection("strays").insertMany(List.of(
            new Document("_id", "x1").append("tenantId", "k-corp").append("code", 7),
            new Document("_id", "x2").append("tenantId", "k-corp").append("code", 7)));

        assertThatThrownBy(() -> client.getDatabase(database).getCollection("strays")
            .createIndex(Indexes.ascending("tenantId", "code"), new IndexOptions().unique(true)))
            .isInstanceOfSatisfying(MongoServerException.class, e -> {
                assertThat(e.getCode()).isEqualTo(11000);
                assertThat(e.getMessage()).contains("failed on shard s2", "ran on s1, s3");
            });
    }

    @Test
    void shouldNameAShardOutOfReachAndLeaveRetiredShardsOut() throws Exception {
        EmbeddedShard s4 = EmbeddedShard.start("s4-" + database);
        fixture.register("s4", s4);
        awaitShards(ids -> ids.contains("s4"));
        s4.close();
        try {
            assertThatThrownBy(() -> people().createIndex(Indexes.ascending("nickname")))
                .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(6);
                    assertThat(e.getErrorCodeName()).isEqualTo("HostUnreachable");
                    assertThat(e.getErrorMessage()).contains("failed on shard s4", "ran on s1, s2, s3");
                });
        } finally {
            fixture.publisher.publishShard(ShardDescriptor.newBuilder().setShardId("s4").setConnectionString(s4.connectionString())
                .setCapacityBytes(1L << 30).setCapacityOpsPerSec(10_000).setState(ShardState.RETIRED).setVersion(2)
                .setUpdatedAt(Instant.now()).build());
            awaitShards(ids -> !ids.contains("s4"));
        }

        people().createIndex(Indexes.ascending("nickname"));
        people().dropIndex("nickname_1");
    }

    private static void awaitShards(java.util.function.Predicate<java.util.Set<String>> condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.test(router.shardIds()) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(condition.test(router.shardIds())).as("the router's shards: %s", router.shardIds()).isTrue();
    }
}
