package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.bson.Document;
import org.bson.conversions.Bson;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.ExplainVerbosity;
import com.mongodb.MongoCommandException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Collation;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndDeleteOptions;
import com.mongodb.client.model.FindOneAndReplaceOptions;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.TopicTable;
import io.shardline.core.key.HashedKeyStrategy;
import io.shardline.core.key.KeyRange;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.Explain;
import io.shardline.router.api.Scope;
import io.shardline.router.wire.WireServer;
import io.shardline.schemas.avro.AcknowledgedCount;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * {@code findAndModify} and {@code explain} over the wire protocol, driven by the MongoDB Java driver on three shards:
 * {@code findOneAndUpdate}, {@code findOneAndReplace} and {@code findOneAndDelete} answer as MongoDB does, pick the
 * first document in sort order across shards, never modify a document twice when threads race for the same filter,
 * count an upsert once in the router's acknowledged documents, keep tenant and shard key, wait for a fenced chunk, and
 * refuse what they cannot run exactly naming it; {@code explain} names the shards and chunks a command targets.
 */
@ShardlineCluster
class WireFindAndModifyIT {

    private static final int USERS = 60;
    private static final int SESSIONS = 30;
    private static final int JOBS = 150;
    private static final Bson BY_AGE = Sorts.orderBy(Sorts.descending("age"), Sorts.ascending("_id"));

    private static RouterFixture fixture;
    private static EmbeddedShard s3;
    private static ShardRouter router;
    private static WireServer wire;
    private static MongoClient client;
    private static MongoClient s1;
    private static MongoClient s2;
    private static ShardContents contents;
    private static String database;
    private static List<Chunk> sessionChunks;

    @BeforeAll
    static void start(EmbeddedCluster cluster, TestNames names) throws Exception {
        fixture = new RouterFixture(cluster, names);
        s3 = fixture.registerThreeShards(names);
        database = names.database();
        List<String> owners = List.of("s1", "s2", "s3");
        for (String collection : List.of("users", "jobs")) {
            String ns = database + "." + collection;
            fixture.namespace(ns, ShardKeyStrategyType.HASHED, List.of("_id"), InitialChunks.layout(ns, 1, InitialChunks.hashedBoundaries(6), owners));
        }
        String sessions = database + ".sessions";
        sessionChunks = InitialChunks.layout(sessions, 1, InitialChunks.hashedBoundaries(6), owners);
        fixture.namespace(sessions, ShardKeyStrategyType.HASHED, List.of("userId"), sessionChunks);
        router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog), new SimpleMeterRegistry(),
            Duration.ofSeconds(60));
        wire = WireServer.start(router, WireServer.Settings.defaults(0));
        client = MongoClients.create(wire.uri());
        s1 = MongoClients.create(cluster.shards().get("s1").connectionString());
        s2 = MongoClients.create(cluster.shards().get("s2").connectionString());
        contents = new ShardContents(Map.of("s1", cluster.shards().get("s1"), "s2", cluster.shards().get("s2"), "s3", s3));
        List<Document> users = new ArrayList<>();
        for (int i = 0; i < USERS; i++) {
            users.add(new Document("_id", "u" + i).append("tenantId", "t" + (i % 3)).append("age", i % 7).append("name", "user " + i));
        }
        collection("users").insertMany(users);
        List<Document> sessionDocuments = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
            sessionDocuments.add(new Document("_id", "s" + i).append("userId", "user-" + (i % 10)).append("tenantId", "t" + (i % 3)).append("n", i));
        }
        collection("sessions").insertMany(sessionDocuments);
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        s1.close();
        s2.close();
        contents.close();
        wire.close();
        router.close();
        s3.close();
        fixture.publisher.close();
    }

    private static MongoDatabase db() {
        return client.getDatabase(database);
    }

    private static MongoCollection<Document> collection(String name) {
        return db().getCollection(name);
    }

    private static FindOneAndUpdateOptions after() {
        return new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER);
    }

    @Test
    void shouldAnswerWithTheDocumentBeforeOrAfterTheUpdateAndMongoDbsLastErrorObject() {
        MongoCollection<Document> users = collection("users");

        Document before = users.findOneAndUpdate(Filters.eq("_id", "u1"), Updates.set("name", "first"));
        Document after = users.findOneAndUpdate(Filters.eq("_id", "u1"), Updates.set("name", "again"), after().projection(Projections.include("name")));
        Document raw = db().runCommand(new Document("findAndModify", "users").append("query", new Document("_id", "u2"))
            .append("update", new Document("$inc", new Document("age", 10))).append("new", true));
        Document missed = db().runCommand(new Document("findAndModify", "users").append("query", new Document("_id", "nobody"))
            .append("update", new Document("$set", new Document("x", 1))));

        assertThat(before.getString("name")).isEqualTo("user 1");
        assertThat(before).doesNotContainKey("_sk");
        assertThat(after).isEqualTo(new Document("_id", "u1").append("name", "again"));
        assertThat(raw.get("lastErrorObject")).isEqualTo(new Document("n", 1).append("updatedExisting", true));
        assertThat(raw.get("value", Document.class).getInteger("age")).isEqualTo(2 + 10);
        assertThat(missed.get("lastErrorObject")).isEqualTo(new Document("n", 0).append("updatedExisting", false));
        assertThat(missed.get("value")).isNull();
        assertThat(users.findOneAndUpdate(Filters.eq("_id", "nobody"), Updates.set("x", 1))).isNull();
        assertThat(users.countDocuments(Filters.exists("x"))).isZero();
    }

    @Test
    void shouldRemoveAndUpdateTheFirstDocumentInSortOrderAcrossShards() {
        MongoCollection<Document> users = collection("users");
        List<Document> tenant = users.find(Filters.eq("tenantId", "t2")).sort(BY_AGE).into(new ArrayList<>());
        assertThat(router.explain(Scope.service(), database + ".users", new Document("tenantId", "t2")).shards()).hasSize(3);

        Document removed = users.findOneAndDelete(Filters.eq("tenantId", "t2"), new FindOneAndDeleteOptions().sort(BY_AGE));
        Document updated = users.findOneAndUpdate(Filters.eq("tenantId", "t2"), Updates.set("flag", "top"), after().sort(BY_AGE));
        Document raw = db().runCommand(new Document("findAndModify", "users").append("query", new Document("tenantId", "t2"))
            .append("sort", new Document("age", -1).append("_id", 1)).append("remove", true));

        assertThat(removed).isEqualTo(tenant.get(0));
        assertThat(updated.getString("_id")).isEqualTo(tenant.get(1).getString("_id"));
        assertThat(updated.getString("flag")).isEqualTo("top");
        assertThat(raw.get("lastErrorObject")).isEqualTo(new Document("n", 1));
        assertThat(raw.get("value", Document.class).getString("_id")).as("the flag does not change the order").isEqualTo(tenant.get(1).getString("_id"));
        assertThat(users.countDocuments(Filters.in("_id", tenant.get(0).get("_id"), tenant.get(1).get("_id")))).isZero();
        assertThat(users.countDocuments(Filters.eq("tenantId", "t2"))).isEqualTo(tenant.size() - 2);
        awaitAcknowledgedMatch("users");
    }

    @Test
    void shouldInsertOnUpsertAnswerTheNewDocumentAndCountItOnce() {
        MongoCollection<Document> users = collection("users");
        long before = users.countDocuments();
        Bson fresh = Filters.and(Filters.eq("_id", "fresh"), Filters.eq("tenantId", "t9"));

        Document inserted = users.findOneAndUpdate(fresh, Updates.set("name", "fresh"), after().upsert(true));
        Document existing = users.findOneAndUpdate(fresh, Updates.set("name", "again"), new FindOneAndUpdateOptions().upsert(true));
        Document raw = db().runCommand(new Document("findAndModify", "users").append("query", new Document("_id", "fresh-2"))
            .append("update", new Document("$set", new Document("name", "second"))).append("upsert", true));
        Document replacedIn = users.findOneAndReplace(Filters.eq("_id", "fresh-3"), new Document("tenantId", "t9").append("name", "third"),
            new FindOneAndReplaceOptions().upsert(true).returnDocument(ReturnDocument.AFTER));

        assertThat(inserted).isEqualTo(new Document("_id", "fresh").append("tenantId", "t9").append("name", "fresh"));
        assertThat(existing.getString("name")).as("the second upsert matched the first one's document").isEqualTo("fresh");
        assertThat(raw.get("lastErrorObject")).isEqualTo(new Document("n", 1).append("updatedExisting", false).append("upserted", "fresh-2"));
        assertThat(raw.get("value")).isNull();
        assertThat(replacedIn).isEqualTo(new Document("_id", "fresh-3").append("tenantId", "t9").append("name", "third"));
        assertThat(users.countDocuments()).isEqualTo(before + 3);
        awaitAcknowledgedMatch("users");
    }

    @Test
    void shouldReplaceADocumentKeepingItsTenantAndShardKey() {
        MongoCollection<Document> sessions = collection("sessions");
        Document original = sessions.find(Filters.eq("_id", "s4")).first();

        Document replaced = sessions.findOneAndReplace(Filters.eq("_id", "s4"), new Document("note", "replaced"),
            new FindOneAndReplaceOptions().returnDocument(ReturnDocument.AFTER));
        Document previous = sessions.findOneAndReplace(Filters.eq("n", 5), new Document("note", "five").append("userId", "user-5"));

        assertThat(replaced).isEqualTo(new Document("_id", "s4").append("note", "replaced").append("userId", original.get("userId"))
            .append("tenantId", original.get("tenantId")));
        assertThat(previous.getInteger("n")).isEqualTo(5);
        assertThat(sessions.find(Filters.eq("_id", "s5")).first()).isEqualTo(new Document("_id", "s5").append("note", "five")
            .append("userId", "user-5").append("tenantId", "t2"));
        assertThatThrownBy(() -> sessions.findOneAndReplace(Filters.eq("_id", "s6"), new Document("userId", "user-9")))
            .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                assertThat(e.getErrorCode()).isEqualTo(66);
                assertThat(e.getErrorMessage()).contains("'userId'", "a shard-key field");
            });
        assertThatThrownBy(() -> sessions.findOneAndReplace(Filters.eq("_id", "s6"), new Document("tenantId", "t9")))
            .isInstanceOfSatisfying(MongoCommandException.class, e -> assertThat(e.getErrorMessage()).contains("'tenantId'", "the tenant field"));
        assertThat(sessions.find(Filters.eq("_id", "s6")).first().getInteger("n")).isEqualTo(6);
        assertThat(contents.misplaced(database + ".sessions", new HashedKeyStrategy("userId"), sessionChunks)).isEmpty();
    }

    @Test
    void shouldGiveEachJobToOneClaimerWhenThreadsRaceForTheSameFilter() throws Exception {
        MongoCollection<Document> jobs = collection("jobs");
        List<Document> queue = new ArrayList<>();
        for (int i = 0; i < JOBS; i++) {
            queue.add(new Document("_id", String.format("job-%03d", i)).append("status", "pending").append("priority", i % 10));
        }
        jobs.insertMany(queue);
        int threads = 6;
        Map<String, String> claimedBy = new ConcurrentHashMap<>();
        List<String> twice = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<List<Document>>> claims = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String worker = "worker-" + t;
            claims.add(pool.submit(() -> {
                List<Document> mine = new ArrayList<>();
                while (true) {
                    Document job = jobs.findOneAndUpdate(Filters.eq("status", "pending"),
                        Updates.combine(Updates.set("status", "claimed"), Updates.set("by", worker), Updates.inc("claims", 1)),
                        after().sort(Sorts.ascending("priority", "_id")));
                    if (job == null) {
                        return mine;
                    }
                    if (claimedBy.putIfAbsent(job.getString("_id"), worker) != null) {
                        twice.add(job.getString("_id"));
                    }
                    mine.add(job);
                }
            }));
        }
        List<List<Document>> perWorker = new ArrayList<>();
        for (Future<List<Document>> claim : claims) {
            perWorker.add(claim.get());
        }
        pool.shutdown();

        assertThat(twice).as("jobs answered to two claimers").isEmpty();
        assertThat(claimedBy).hasSize(JOBS);
        for (List<Document> mine : perWorker) {
            for (int i = 1; i < mine.size(); i++) {
                Document previous = mine.get(i - 1);
                Document current = mine.get(i);
                int byPriority = Integer.compare(previous.getInteger("priority"), current.getInteger("priority"));
                assertThat(byPriority < 0 || byPriority == 0 && previous.getString("_id").compareTo(current.getString("_id")) < 0)
                    .as("a claimer takes the first pending job: %s before %s", previous, current).isTrue();
            }
        }
        for (Document job : jobs.find().into(new ArrayList<>())) {
            assertThat(job.getInteger("claims")).as("claims of %s", job).isEqualTo(1);
            assertThat(job.getString("by")).isEqualTo(claimedBy.get(job.getString("_id")));
        }
    }

    @Test
    void shouldRefuseWhatItCannotRunExactlyNamingItAndModifyNothing() {
        MongoCollection<Document> users = collection("users");
        MongoCollection<Document> sessions = collection("sessions");
        Document u3 = users.find(Filters.eq("_id", "u3")).first();

        refused(() -> users.findOneAndUpdate(Filters.eq("_id", "u3"), List.of(Updates.set("x", 1))), 72, "update pipelines");
        refused(() -> users.findOneAndUpdate(Filters.eq("_id", "u3"), Updates.set("tenantId", "t9")), 66, "'tenantId'", "the tenant field");
        refused(() -> users.findOneAndUpdate(Filters.eq("tenantId", "t0"), Updates.rename("name", "tenantId")), 66, "'tenantId'");
        refused(() -> sessions.findOneAndUpdate(Filters.eq("_id", "s7"), Updates.set("userId", "user-1")), 66, "'userId'", "a shard-key field");
        refused(() -> sessions.findOneAndUpdate(Filters.eq("_id", "s7"), Updates.set("n", 1), new FindOneAndUpdateOptions().upsert(true)),
            2, "shard-key field [userId]");
        refused(() -> users.findOneAndUpdate(Filters.eq("_id", "u3"), Updates.set("x", 1),
            new FindOneAndUpdateOptions().collation(Collation.builder().locale("fr").build())), 72, "collation");
        refused(() -> users.findOneAndUpdate(Filters.eq("_id", "u3"), Updates.set("tags.$[t]", 1),
            new FindOneAndUpdateOptions().arrayFilters(List.of(Filters.eq("t", 1)))), 72, "arrayFilters");
        refused(() -> users.findOneAndDelete(Filters.eq("_id", "u3"), new FindOneAndDeleteOptions().sort(new Document("age", 2))), 2, "sort");
        refused(() -> db().runCommand(new Document("findAndModify", "users").append("query", new Document("_id", "u3")).append("remove", true)
            .append("update", new Document("$set", new Document("x", 1)))), 9, "remove");
        refused(() -> db().runCommand(new Document("findAndModify", "users").append("query", new Document("_id", "u3")).append("remove", true)
            .append("new", true)), 9, "new=true");
        refused(() -> db().runCommand(new Document("findAndModify", "users").append("query", new Document("_id", "u3"))), 9, "either an update");

        assertThat(users.find(Filters.eq("_id", "u3")).first()).isEqualTo(u3);
        assertThat(sessions.countDocuments(Filters.eq("_id", "s7"))).isEqualTo(1);
    }

    private static void refused(Runnable command, int code, String... named) {
        assertThatThrownBy(command::run).isInstanceOfSatisfying(MongoCommandException.class, e -> {
            assertThat(e.getErrorCode()).as(e.getErrorMessage()).isEqualTo(code);
            assertThat(e.getErrorMessage()).contains(named);
        });
    }

    @Test
    void shouldWaitForAFencedChunkThenModifyOnTheOwnerTheRoutingNames() throws Exception {
        String ns = database + ".fenced";
        Chunk whole = Chunk.active(ns, KeyRange.ALL, "s1", 1, 100);
        long before = router.routingVersion();
        fixture.namespace(ns, ShardKeyStrategyType.TENANT, List.of("tenantId"), List.of(whole));
        router.awaitRoutingVersionAbove(before, Duration.ofSeconds(10));
        MongoCollection<Document> fenced = collection("fenced");
        fenced.insertOne(new Document("_id", "f1").append("tenantId", "acme").append("n", 0));
        long unfenced = router.routingVersion();
        fixture.publisher.publishChunk(whole.withOwner("s1", 101, ChunkState.FENCED, "m-fam"));
        router.awaitRoutingVersionAbove(unfenced, Duration.ofSeconds(10));

        // Past the fence budget the write fails as retryable, and says so to the driver.
        assertThatThrownBy(() -> db().runCommand(new Document("findAndModify", "fenced").append("query", new Document("tenantId", "acme"))
            .append("update", new Document("$inc", new Document("n", 1)))))
            .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                assertThat(e.getErrorCode()).isEqualTo(262);
                assertThat(e.getErrorLabels()).contains("RetryableWriteError");
            });

        Thread cutover = new Thread(() -> {
            try {
                Thread.sleep(150);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            s2.getDatabase(database).getCollection("fenced").insertMany(s1.getDatabase(database).getCollection("fenced").find().into(new ArrayList<>()));
            fixture.publisher.publishChunk(whole.withOwner("s2", 102, ChunkState.ACTIVE, null));
        });
        cutover.start();
        Document updated = fenced.findOneAndUpdate(Filters.eq("tenantId", "acme"), Updates.inc("n", 1), after());
        cutover.join();

        assertThat(updated.getInteger("n")).isEqualTo(1);
        assertThat(s2.getDatabase(database).getCollection("fenced").find().first().getInteger("n")).as("the new owner").isEqualTo(1);
        assertThat(s1.getDatabase(database).getCollection("fenced").find().first().getInteger("n")).as("the old copy").isZero();
    }

    @Test
    void shouldExplainWhichShardsAndChunksACommandTargetsAndWhy() {
        Explain point = router.explain(Scope.service(), database + ".users", new Document("_id", "u1"));

        Document targeted = explain(new Document("find", "users").append("filter", new Document("_id", "u1")), "queryPlanner");
        Document scatter = explain(new Document("find", "users").append("filter", new Document("age", 3)).append("sort", new Document("age", 1)), null);
        Document counted = explain(new Document("count", "users").append("query", new Document("age", 3)), null);
        Document distinct = explain(new Document("distinct", "users").append("key", "age")
            .append("query", new Document("_id", new Document("$in", List.of("u1", "u2")))), null);
        Document aggregated = explain(new Document("aggregate", "users").append("pipeline", List.of(new Document("$match", new Document("_id", "u1")),
            new Document("$group", new Document("_id", "$age")))).append("cursor", new Document()), null);
        Document fromDriver = collection("users").find(Filters.eq("_id", "u1")).explain();

        Document plan = targeted.get("queryPlanner", Document.class).get("winningPlan", Document.class);
        assertThat(plan.getString("stage")).isEqualTo("SINGLE_SHARD");
        assertThat(plan.getList("shards", Document.class)).singleElement().satisfies(shard -> {
            assertThat(shard.getString("shardName")).isEqualTo(point.shards().get(0));
            assertThat(shard.getList("chunks", String.class)).isEqualTo(point.chunks());
        });
        Document shardline = targeted.get("shardline", Document.class);
        assertThat(shardline.getString("reason")).contains("_id equality");
        assertThat(shardline.getBoolean("allShards")).isFalse();
        assertThat(shardline.getList("keyRanges", String.class)).hasSize(1);
        assertThat(shardline.getLong("routingVersion")).isPositive();
        assertThat(stage(scatter)).isEqualTo("SHARD_MERGE_SORT");
        assertThat(scatter.get("queryPlanner", Document.class).get("winningPlan", Document.class).getList("shards", Document.class)).hasSize(3);
        assertThat(scatter.get("shardline", Document.class).getBoolean("allShards")).isTrue();
        assertThat(scatter.get("shardline", Document.class).getList("chunks", String.class)).hasSize(6);
        assertThat(stage(counted)).isEqualTo("SHARD_MERGE");
        assertThat(distinct.get("shardline", Document.class).getString("reason")).contains("$in");
        assertThat(stage(aggregated)).isEqualTo("SINGLE_SHARD");
        assertThat(stage(fromDriver)).isEqualTo("SINGLE_SHARD");

        refused(() -> collection("users").find().explain(ExplainVerbosity.EXECUTION_STATS), 72, "executionStats");
        refused(() -> explain(new Document("insert", "users").append("documents", List.of()), null), 20, "Cannot explain cmd: insert");
        refused(() -> explain(new Document("frobnicate", "users"), null), 59, "frobnicate");
        refused(() -> explain(new Document("find", "users").append("collation", new Document("locale", "fr")), null), 72, "collation");
        refused(() -> explain(new Document("aggregate", "users").append("pipeline", List.of(new Document("$lookup", new Document())))
            .append("cursor", new Document()), null), 115, "$lookup");
    }

    private static Document explain(Document command, String verbosity) {
        Document explain = new Document("explain", command);
        if (verbosity != null) {
            explain.append("verbosity", verbosity);
        }
        return db().runCommand(explain);
    }

    private static String stage(Document explained) {
        return explained.get("queryPlanner", Document.class).get("winningPlan", Document.class).getString("stage");
    }

    /**
     * Waits until the router's published acknowledged documents of a collection (inserted and upserted, less removed)
     * add up to the documents it holds, with no write of uncertain outcome.
     */
    private static void awaitAcknowledgedMatch(String collection) {
        String ns = database + "." + collection;
        long documents = collection(collection).countDocuments();
        long deadline = System.currentTimeMillis() + 20_000;
        long[] totals = new long[2];
        try (TopicTable<AcknowledgedCount> table = new TopicTable<>(fixture.cluster.bootstrapServers(), fixture.catalog.acknowledged(),
            fixture.catalog.controlDlq().name(), "wire-fam-it")) {
            do {
                totals[0] = 0;
                totals[1] = 0;
                table.refresh().values().values().stream()
                    .filter(count -> count.getNamespace().equals(ns) && count.getRouterId().equals(router.routerId()))
                    .forEach(count -> {
                        totals[0] += count.getAdded() - count.getRemoved();
                        totals[1] += count.getUncertain();
                    });
                if (totals[0] == documents) {
                    break;
                }
                sleep(200);
            } while (System.currentTimeMillis() < deadline);
        }
        assertThat(totals[0]).as("acknowledged documents of %s", ns).isEqualTo(documents);
        assertThat(totals[1]).as("writes of uncertain outcome").isZero();
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
