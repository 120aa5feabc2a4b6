package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.FindAndModifyRequest;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.FindResult;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.Scope;
import io.shardline.router.http.RouterHttpServer;
import io.shardline.router.wire.WireServer;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardHealth;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * Degraded mode: a shard whose descriptor says DOWN gets no request. Requests for its ranges are refused at once, over
 * the Java API, HTTP (503 with Retry-After) and the wire protocol (HostUnreachable, with RetryableWriteError on
 * writes); a write that needs it is refused whole; a partial read leaves it out; the other shard serves as before, and
 * the shard serves again once its descriptor says UP. {@code GET /health} tells what the router can serve.
 */
@ShardlineCluster
class ShardDownIT {

    /** Long, so that a refusal that waited on a shard instead of refusing at once could not pass for one. */
    private static final Duration SHARD_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private static final String CAUSE = "MongoSocketOpenException: connection refused (probe)";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final AtomicLong VERSIONS = new AtomicLong(1);

    private static RouterFixture fixture;
    private static EmbeddedCluster cluster;
    private static PrometheusMeterRegistry meters;
    private static ShardRouter router;
    private static RouterHttpServer http;
    private static WireServer wire;
    private static MongoClient noRetries;
    private static MongoClient retrying;
    private static MongoClient s1;
    private static MongoClient s2;
    private static String database;
    private static String users;
    private static String onS1;
    private static String onS2;

    @BeforeAll
    static void start(EmbeddedCluster embedded, TestNames names) throws Exception {
        cluster = embedded;
        fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        database = names.database();
        users = database + ".users";
        fixture.namespace(users, ShardKeyStrategyType.HASHED, List.of("_id"),
            InitialChunks.layout(users, 1, InitialChunks.hashedBoundaries(4), List.of("s1", "s2")));
        meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog).withShardTimeout(SHARD_TIMEOUT),
            meters, Duration.ofSeconds(60));
        http = RouterHttpServer.start(router, "127.0.0.1", 0, 8, meters);
        wire = WireServer.start(router, WireServer.Settings.defaults(0));
        noRetries = MongoClients.create(MongoClientSettings.builder().applyConnectionString(new ConnectionString(wire.uri()))
            .retryReads(false).retryWrites(false).build());
        retrying = MongoClients.create(wire.uri());
        s1 = MongoClients.create(cluster.shards().get("s1").connectionString());
        s2 = MongoClients.create(cluster.shards().get("s2").connectionString());
        List<Document> documents = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            documents.add(new Document("_id", "u" + i).append("n", i));
        }
        router.insert("acme", users, documents);
        onS1 = keyOn(users, "s1", "u");
        onS2 = keyOn(users, "s2", "u");
    }

    @AfterAll
    static void stop() throws Exception {
        noRetries.close();
        retrying.close();
        s1.close();
        s2.close();
        wire.close();
        http.close();
        router.close();
        fixture.publisher.close();
    }

    /** The first key {@code prefix + i} that the routing places on {@code shard}. */
    private static String keyOn(String namespace, String shard, String prefix) {
        for (int i = 0; ; i++) {
            String key = prefix + i;
            if (router.explain(Scope.service(), namespace, new Document("_id", key)).shards().equals(List.of(shard))) {
                return key;
            }
        }
    }

    /** Whether the router has a complete routing of the namespace. */
    private static boolean routed(String namespace) {
        try {
            return router.explain(Scope.service(), namespace, new Document()).shards().size() == 2;
        } catch (RouterException notYet) {
            return false;
        }
    }

    private static void publishHealth(String shardId, String connectionString, ShardHealth health, String cause) {
        fixture.publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shardId).setConnectionString(connectionString)
            .setCapacityBytes(1L << 30).setCapacityOpsPerSec(10_000).setState(ShardState.ACTIVE).setVersion(VERSIONS.incrementAndGet())
            .setUpdatedAt(Instant.now()).setHealth(health).setHealthSince(Instant.now()).setHealthCause(cause).build());
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting until %s", what).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private static boolean seenDown(ShardRouter seenBy, String shard) {
        return seenBy.health().shardsDown().stream().anyMatch(down -> down.shardId().equals(shard));
    }

    private static void markDown(String shard) throws InterruptedException {
        publishHealth(shard, cluster.shards().get(shard).connectionString(), ShardHealth.DOWN, CAUSE);
        await(() -> seenDown(router, shard), "the router applied " + shard + " DOWN");
    }

    private static void markUp(String shard) throws InterruptedException {
        publishHealth(shard, cluster.shards().get(shard).connectionString(), ShardHealth.UP, null);
        await(() -> !seenDown(router, shard), "the router applied " + shard + " UP");
    }

    private static double refusals(String shard) {
        var counter = meters.find("router.shard.down.refused").tag("shard", shard).counter();
        return counter == null ? 0 : counter.count();
    }

    /** Asserts the call is refused because {@code shard} is DOWN, naming the shard, since when and why. */
    private static void assertRefused(String shard, Callable<?> call) {
        assertThatThrownBy(call::call).isInstanceOfSatisfying(RouterException.class, e -> {
            assertThat(e.kind()).isEqualTo(RouterException.Kind.SHARD_DOWN);
            assertThat(e.getMessage()).contains("shard " + shard + " is DOWN since ", CAUSE);
        });
    }

    private static MongoCollection<Document> direct(MongoClient shard) {
        return shard.getDatabase(database).getCollection("users");
    }

    @Test
    void shouldRefuseEveryRequestForADownShardAtOnceAndServeTheOtherShard() throws Exception {
        long onS1Before = direct(s1).countDocuments();
        long total = direct(s1).countDocuments() + direct(s2).countDocuments();
        double refusedBefore = refusals("s2");
        markDown("s2");
        try {
            String newOnS1 = keyOn(users, "s1", "fresh-");
            String newOnS2 = keyOn(users, "s2", "fresh-");

            assertRefused("s2", () -> router.find("acme", users, FindRequest.of(new Document("_id", onS2))));
            assertRefused("s2", () -> router.find("acme", users, FindRequest.of(new Document())));
            assertRefused("s2", () -> router.count("acme", users, new Document(), false));
            assertRefused("s2", () -> router.distinct("acme", users, "n", new Document()));
            assertRefused("s2", () -> router.aggregate("acme", users, List.of(new Document("$match", new Document())), false));
            assertRefused("s2", () -> router.insert("acme", users, List.of(new Document("_id", newOnS2))));
            assertRefused("s2", () -> router.insert("acme", users, List.of(new Document("_id", newOnS1), new Document("_id", newOnS2))));
            assertRefused("s2", () -> router.update("acme", users, new Document(), new Document("$set", new Document("touched", true)), true, false));
            assertRefused("s2", () -> router.update("acme", users, new Document("_id", newOnS2), new Document("$set", new Document("n", -1)), false, true));
            assertRefused("s2", () -> router.delete("acme", users, new Document(), true));
            assertRefused("s2", () -> router.findAndModify(Scope.tenant("acme"), users, new FindAndModifyRequest(new Document(),
                new Document("_id", 1), new Document("$set", new Document("claimed", true)), false, true, null, false)));
            assertRefused("s2", () -> router.findAndModify(Scope.tenant("acme"), users, new FindAndModifyRequest(new Document("_id", onS2),
                null, null, true, false, null, false)));

            assertThat(direct(s1).countDocuments()).as("nothing of a refused write reached the other shard").isEqualTo(onS1Before);
            assertThat(direct(s1).countDocuments(Filters.exists("touched"))).isZero();
            assertThat(direct(s1).countDocuments(Filters.exists("claimed"))).isZero();
            assertThat(direct(s2).countDocuments(Filters.in("_id", newOnS2))).isZero();
            assertThat(refusals("s2") - refusedBefore).as("refusals counted for s2").isEqualTo(12);

            FindResult partial = router.find("acme", users, new FindRequest(new Document(), null, 0, 0, null, true));
            assertThat(partial.partial()).isTrue();
            assertThat(partial.missingShards()).containsExactly("s2");
            assertThat(partial.documents()).hasSize((int) onS1Before);
            FindResult partialAggregate = router.aggregate("acme", users, List.of(new Document("$count", "n")), true);
            assertThat(partialAggregate.missingShards()).containsExactly("s2");
            assertThat(partialAggregate.documents().get(0).get("n", Number.class).longValue()).isEqualTo(onS1Before);
            assertThat(router.count("acme", users, new Document(), true)).isEqualTo(onS1Before);

            assertThat(router.find("acme", users, FindRequest.of(new Document("_id", onS1))).documents()).hasSize(1);
            assertThat(router.insert("acme", users, List.of(new Document("_id", newOnS1))).inserted()).isEqualTo(1);
            assertThat(router.update("acme", users, new Document("_id", onS1), new Document("$set", new Document("seen", true)), false, false)
                .modified()).isEqualTo(1);
            assertThat(router.findAndModify(Scope.tenant("acme"), users, new FindAndModifyRequest(new Document("_id", newOnS1), null, null,
                true, false, null, false)).n()).isEqualTo(1);
            assertThat(router.runOnShards(List.of("s1"), database, new Document("ping", 1))).containsOnlyKeys("s1");
            assertThatThrownBy(() -> router.runOnShards(List.of("s1", "s2"), database, new Document("ping", 1)))
                .isInstanceOfSatisfying(io.shardline.router.api.ShardCommandException.class, e -> {
                    assertThat(e.replies()).containsOnlyKeys("s1");
                    assertThat(e.failures().get("s2")).isInstanceOfSatisfying(RouterException.class,
                        down -> assertThat(down.kind()).isEqualTo(RouterException.Kind.SHARD_DOWN));
                });
        } finally {
            markUp("s2");
        }

        assertThat(router.find("acme", users, FindRequest.of(new Document("_id", onS2))).documents()).as("s2 serves again").hasSize(1);
        FindResult whole = router.find("acme", users, new FindRequest(new Document(), null, 0, 0, null, true));
        assertThat(whole.partial()).isFalse();
        assertThat(whole.documents()).hasSize((int) total);
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String op, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + "/v1/" + database + "/users/" + op))
            .header(RouterHttpServer.TENANT_HEADER, "acme").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldAnswer503WithRetryAfterOverHttpForADownShardAndHealthDegraded() throws Exception {
        markDown("s2");
        try {
            HttpResponse<String> refused = post("find", "{\"filter\": {\"_id\": \"" + onS2 + "\"}}");
            HttpResponse<String> served = post("find", "{\"filter\": {\"_id\": \"" + onS1 + "\"}}");
            HttpResponse<String> partial = post("find", "{\"filter\": {}, \"allowPartial\": true}");
            HttpResponse<String> health = get("/health");
            HttpResponse<String> metrics = get("/metrics");

            assertThat(refused.statusCode()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
            assertThat(Document.parse(refused.body()).getString("error")).contains("shard s2 is DOWN since", CAUSE);
            assertThat(served.statusCode()).isEqualTo(200);
            assertThat(Document.parse(served.body()).getList("documents", Document.class)).hasSize(1);
            assertThat(partial.statusCode()).isEqualTo(200);
            assertThat(Document.parse(partial.body()).getBoolean("partial")).isTrue();
            assertThat(Document.parse(partial.body()).getList("missingShards", String.class)).containsExactly("s2");
            assertThat(health.statusCode()).as("the router serves the other shards").isEqualTo(200);
            Document answer = Document.parse(health.body());
            assertThat(answer.getString("status")).isEqualTo("DEGRADED");
            assertThat(answer.getBoolean("leaseValid")).isTrue();
            assertThat(answer.get("routingVersion", Number.class).longValue()).isEqualTo(router.routingVersion());
            assertThat(answer.getList("shardsDown", Document.class)).anySatisfy(down -> {
                assertThat(down.getString("shardId")).isEqualTo("s2");
                assertThat(down.getString("cause")).isEqualTo(CAUSE);
                assertThat(Instant.parse(down.getString("since"))).isBefore(Instant.now().plusSeconds(1));
            });
            assertThat(metrics.body()).contains("router_shard_down_refused_total{shard=\"s2\"}");
        } finally {
            markUp("s2");
        }
        assertThat(post("find", "{\"filter\": {\"_id\": \"" + onS2 + "\"}}").statusCode()).isEqualTo(200);
    }

    /** Asserts the driver's call fails with HostUnreachable, and with RetryableWriteError when {@code write}. */
    private static void assertHostUnreachable(Runnable call, boolean write) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(MongoException.class, e -> {
            assertThat(e.getCode()).as("code of %s", e).isEqualTo(6);
            assertThat(e.getMessage()).contains("shard s2 is DOWN");
            assertThat(e.hasErrorLabel("RetryableWriteError")).as("RetryableWriteError on %s", e).isEqualTo(write);
        });
    }

    @Test
    void shouldAnswerHostUnreachableOverTheWireAndRetryableWriteErrorOnWrites() throws Exception {
        MongoCollection<Document> collection = noRetries.getDatabase(database).getCollection("users");
        MongoCursor<Document> open = collection.find().sort(Sorts.ascending("_id")).batchSize(2).cursor();
        List<Document> before = new ArrayList<>(List.of(open.next(), open.next()));
        MongoCursor<Document> openPartial = collection.find().partial(true).sort(Sorts.ascending("_id")).batchSize(2).cursor();
        List<Document> partialCursor = new ArrayList<>(List.of(openPartial.next(), openPartial.next()));
        long total = direct(s1).countDocuments() + direct(s2).countDocuments();
        markDown("s2");
        try {
            long onS1Now = direct(s1).countDocuments();
            String newOnS2 = keyOn(users, "s2", "wire-");

            assertHostUnreachable(() -> collection.find(Filters.eq("_id", onS2)).first(), false);
            assertHostUnreachable(() -> collection.countDocuments(), false);
            assertHostUnreachable(() -> collection.insertOne(new Document("_id", newOnS2)), true);
            assertHostUnreachable(() -> collection.updateOne(Filters.eq("_id", onS2), Updates.set("wire", true)), true);
            assertHostUnreachable(() -> collection.updateMany(new Document(), Updates.set("wire", true)), true);
            assertHostUnreachable(() -> collection.deleteOne(Filters.eq("_id", onS2)), true);
            assertHostUnreachable(() -> collection.findOneAndUpdate(new Document(), Updates.set("wire", true)), true);
            assertHostUnreachable(() -> {
                while (open.hasNext()) {
                    before.add(open.next());
                }
            }, false);
            assertThat(direct(s1).countDocuments(Filters.exists("wire"))).as("nothing of a refused write reached s1").isZero();
            openPartial.forEachRemaining(partialCursor::add);
            assertThat(partialCursor).as("a partial cursor goes on without s2: all of s1, what it had of s2")
                .hasSizeBetween((int) onS1Now, (int) total - 1)
                .extracting(d -> d.getString("_id")).containsAll(direct(s1).find().map(d -> d.getString("_id")).into(new ArrayList<>()));

            List<Document> partial = collection.find().partial(true).into(new ArrayList<>());
            assertThat(partial).hasSize((int) onS1Now);
            Document reply = noRetries.getDatabase(database).runCommand(new Document("find", "users").append("allowPartialResults", true)
                .append("batchSize", 1_000));
            assertThat(reply.get("cursor", Document.class).getBoolean("partialResultsReturned")).isTrue();
            assertThat(reply.get("cursor", Document.class).getList("firstBatch", Document.class)).hasSize((int) onS1Now);
            assertHostUnreachable(() -> noRetries.getDatabase(database).runCommand(new Document("find", "users")), false);
            assertThat(collection.find(Filters.eq("_id", onS1)).first()).as("s1 serves").isNotNull();

            double refused = refusals("s2");
            MongoCollection<Document> retried = retrying.getDatabase(database).getCollection("users");
            assertHostUnreachable(() -> retried.insertOne(new Document("_id", newOnS2)), true);
            assertThat(refusals("s2") - refused).as("a driver retries a write refused with RetryableWriteError once").isEqualTo(2);
            assertHostUnreachable(() -> retried.find(Filters.eq("_id", onS2)).first(), false);
            assertThat(refusals("s2") - refused).as("and a read refused with HostUnreachable once").isEqualTo(4);
        } finally {
            markUp("s2");
        }
        assertThat(collection.find(Filters.eq("_id", onS2)).first()).as("s2 serves again").isNotNull();
    }

    private static String percentiles(List<Long> nanos) {
        List<Long> sorted = nanos.stream().sorted().toList();
        return String.format(Locale.ROOT, "n=%d p50 %.2f ms p99 %.2f ms max %.2f ms", sorted.size(), at(sorted, 0.50), at(sorted, 0.99),
            sorted.get(sorted.size() - 1) / 1e6);
    }

    private static double at(List<Long> sorted, double quantile) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(quantile * sorted.size()) - 1)) / 1e6;
    }

    private static long timed(Runnable call) {
        long start = System.nanoTime();
        call.run();
        return System.nanoTime() - start;
    }

    /**
     * A shard that really stops answering: before its descriptor says DOWN a request for it waits on it; once it says
     * so, the refusal takes milliseconds, requests to the healthy shard go on as before, and once the shard answers
     * again and its descriptor says UP it serves again.
     */
    @Test
    void shouldRefuseAStoppedShardsRequestsInMillisecondsOnceItIsDown(TestNames names) throws Exception {
        EmbeddedShard s3 = EmbeddedShard.start("s3-" + names.database());
        String stopped = database + ".stopped";
        try {
            fixture.register("s3", s3);
            fixture.namespace(stopped, ShardKeyStrategyType.HASHED, List.of("_id"),
                InitialChunks.layout(stopped, 1, InitialChunks.hashedBoundaries(2), List.of("s1", "s3")));
            await(() -> router.shardIds().contains("s3") && routed(stopped), "the router routes " + stopped + " to s1 and s3");
            List<Document> documents = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                documents.add(new Document("_id", "k" + i));
            }
            router.insert("acme", stopped, documents);
            String onS3 = keyOn(stopped, "s3", "k");
            String healthyKey = keyOn(stopped, "s1", "k");
            int healthyDocuments = countOn(documents, stopped, "s1");
            s3.stopAnswering();

            for (int i = 0; i < 2; i++) {
                long start = System.nanoTime();
                String outcome;
                try {
                    router.find("acme", stopped, FindRequest.of(new Document("_id", onS3)));
                    outcome = "answered";
                } catch (RouterException e) {
                    outcome = e.kind().name();
                }
                System.out.printf(Locale.ROOT, "ShardDownIT: a find on stopped s3 before its descriptor says DOWN: %.2f ms (%s)%n",
                    (System.nanoTime() - start) / 1e6, outcome);
            }

            // A request already waiting on the stopped shard when it is marked DOWN fails then, not at its timeout.
            java.util.concurrent.atomic.AtomicReference<String> waitedOutcome = new java.util.concurrent.atomic.AtomicReference<>("answered");
            java.util.concurrent.CompletableFuture<Long> waiting = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                long start = System.nanoTime();
                try {
                    router.find("acme", stopped, FindRequest.of(new Document("_id", onS3)));
                } catch (RouterException e) {
                    waitedOutcome.set(e.kind().name());
                }
                return System.nanoTime() - start;
            });
            Thread.sleep(500);
            long marked = System.nanoTime();
            publishHealth("s3", s3.connectionString(), ShardHealth.DOWN, "no answer within the probe interval");
            await(() -> seenDown(router, "s3"), "the router applied s3 DOWN");
            long waitedNanos = waiting.get(SHARD_TIMEOUT.toSeconds() * 2, java.util.concurrent.TimeUnit.SECONDS);
            long afterMarkNanos = System.nanoTime() - marked;
            System.out.printf(Locale.ROOT, "ShardDownIT: a find waiting on s3 when it was marked DOWN ended after %.2f ms (%s)%n", waitedNanos / 1e6,
                waitedOutcome.get());
            assertThat(waitedOutcome.get()).as("the waiting request's outcome").isEqualTo("SHARD_DOWN");
            assertThat(waitedNanos).as("the waiting request ended with the DOWN mark, not at the shard timeout")
                .isLessThan(SHARD_TIMEOUT.toNanos() - Duration.ofSeconds(2).toNanos());
            assertThat(afterMarkNanos).isPositive();
            List<Long> refusedNanos = new ArrayList<>();
            List<Long> servedNanos = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                int round = i;
                refusedNanos.add(timed(() -> assertRefusedQuietly(round, onS3, stopped)));
                servedNanos.add(timed(() -> {
                    if (round % 2 == 0) {
                        assertThat(router.find("acme", stopped, FindRequest.of(new Document("_id", healthyKey))).documents()).hasSize(1);
                    } else {
                        assertThat(router.update("acme", stopped, new Document("_id", healthyKey), new Document("$inc", new Document("n", 1)),
                            false, false).matched()).isEqualTo(1);
                    }
                }));
            }
            FindResult partial = router.find("acme", stopped, new FindRequest(new Document(), null, 0, 0, null, true));

            System.out.println("ShardDownIT: refused requests for DOWN (stopped) s3: " + percentiles(refusedNanos));
            System.out.println("ShardDownIT: requests to healthy s1 during the outage: " + percentiles(servedNanos));
            System.out.println("ShardDownIT: shard timeout " + SHARD_TIMEOUT.toMillis() + " ms");
            assertThat(partial.missingShards()).containsExactly("s3");
            assertThat(partial.documents()).hasSize(healthyDocuments);
            List<Long> sorted = refusedNanos.stream().sorted().toList();
            assertThat(sorted.get((int) Math.ceil(0.99 * sorted.size()) - 1)).as("p99 of refusals (ns) under the shard timeout")
                .isLessThan(SHARD_TIMEOUT.toNanos());

            s3.answerAgain();
            publishHealth("s3", s3.connectionString(), ShardHealth.UP, null);
            await(() -> !seenDown(router, "s3"), "the router applied s3 UP");
            assertThat(router.find("acme", stopped, FindRequest.of(new Document("_id", onS3))).documents()).as("s3 serves again").hasSize(1);
            assertThat(router.find("acme", stopped, FindRequest.of(new Document())).documents()).hasSize(40);
        } finally {
            s3.close();
            fixture.publisher.publishShard(ShardDescriptor.newBuilder().setShardId("s3").setConnectionString(s3.connectionString())
                .setCapacityBytes(1L << 30).setCapacityOpsPerSec(10_000).setState(ShardState.RETIRED).setVersion(VERSIONS.incrementAndGet())
                .setUpdatedAt(Instant.now()).build());
        }
    }

    private static int countOn(List<Document> documents, String namespace, String shard) {
        int n = 0;
        for (Document document : documents) {
            if (router.explain(Scope.service(), namespace, new Document("_id", document.get("_id"))).shards().equals(List.of(shard))) {
                n++;
            }
        }
        return n;
    }

    private static void assertRefusedQuietly(int round, String key, String namespace) {
        try {
            switch (round % 3) {
                case 0 -> router.find("acme", namespace, FindRequest.of(new Document("_id", key)));
                case 1 -> router.update("acme", namespace, new Document("_id", key), new Document("$inc", new Document("n", 1)), false, false);
                default -> router.find("acme", namespace, FindRequest.of(new Document()));
            }
            throw new AssertionError("a request for DOWN s3 was served (round " + round + ")");
        } catch (RouterException e) {
            assertThat(e.kind()).isEqualTo(RouterException.Kind.SHARD_DOWN);
        }
    }

    @Test
    void shouldAnswerHealth200WhileTheRouterHoldsItsLeaseUpOrDegraded(TestNames names) throws Exception {
        RouterFixture own = new RouterFixture(cluster, names);
        own.register("s1", cluster.shards().get("s1"));
        own.register("s2", cluster.shards().get("s2"));
        String ns = names.database() + ".items";
        own.namespace(ns, ShardKeyStrategyType.HASHED, List.of("_id"), InitialChunks.layout(ns, 1, InitialChunks.hashedBoundaries(2), List.of("s1", "s2")));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (ShardRouter healthy = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), own.catalog), registry, Duration.ofSeconds(60));
             RouterHttpServer server = RouterHttpServer.start(healthy, "127.0.0.1", 0, 2, registry)) {
            HttpResponse<String> up = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
            own.publisher.publishShard(ShardDescriptor.newBuilder().setShardId("s2").setConnectionString(cluster.shards().get("s2").connectionString())
                .setCapacityBytes(1L << 30).setCapacityOpsPerSec(10_000).setState(ShardState.ACTIVE).setVersion(2).setUpdatedAt(Instant.now())
                .setHealth(ShardHealth.DOWN).setHealthSince(Instant.now()).setHealthCause(CAUSE).build());
            await(() -> seenDown(healthy, "s2"), "the router applied s2 DOWN");
            HttpResponse<String> degraded = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());

            assertThat(up.statusCode()).isEqualTo(200);
            Document upAnswer = Document.parse(up.body());
            assertThat(upAnswer.getString("status")).isEqualTo("UP");
            assertThat(upAnswer.getBoolean("leaseValid")).isTrue();
            assertThat(upAnswer.get("routingVersion", Number.class).longValue()).isPositive();
            assertThat(upAnswer.get("routingAgeMillis", Number.class).longValue()).as("confirmed within the lease").isBetween(0L, 5_000L);
            assertThat(upAnswer.getList("shardsDown", Document.class)).isEmpty();
            assertThat(degraded.statusCode()).isEqualTo(200);
            Document degradedAnswer = Document.parse(degraded.body());
            assertThat(degradedAnswer.getString("status")).isEqualTo("DEGRADED");
            assertThat(degradedAnswer.getList("shardsDown", Document.class)).extracting(d -> d.getString("shardId")).containsExactly("s2");
            assertThat(degradedAnswer.getList("reasons", String.class)).singleElement().asString().contains("shard s2 is DOWN", CAUSE);
        } finally {
            own.publisher.close();
        }
    }

    @Test
    void shouldAnswerHealth503OnceTheLeaseLapsedAndSayWhenReadsAreRefusedToo(TestNames names) throws Exception {
        RouterFixture own = new RouterFixture(cluster, names);
        own.register("s1", cluster.shards().get("s1"));
        String ns = names.database() + ".items";
        own.namespace(ns, ShardKeyStrategyType.HASHED, List.of("_id"), InitialChunks.layout(ns, 1, InitialChunks.hashedBoundaries(1), List.of("s1")));
        Duration staleness = Duration.ofSeconds(1);
        // Acks only every 30 s (and on routing changes, which these topics do not get): the 500 ms lease lapses.
        RouterConfig config = RouterConfig.defaults(cluster.bootstrapServers(), own.catalog).withSignalInterval(Duration.ofSeconds(30))
            .withLeaseDuration(Duration.ofMillis(500)).withMaxReadStaleness(staleness).withShardTimeout(Duration.ofMillis(300));
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (ShardRouter lapsing = ShardRouter.start(config, registry, Duration.ofSeconds(60));
             RouterHttpServer server = RouterHttpServer.start(lapsing, "127.0.0.1", 0, 2, registry)) {
            URI health = URI.create("http://127.0.0.1:" + server.port() + "/health");
            await(() -> !lapsing.leaseValid(), "the lease lapsed");
            HttpResponse<String> lapsed = HTTP.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString());
            Thread.sleep(staleness.toMillis() + 500);
            HttpResponse<String> stale = HTTP.send(HttpRequest.newBuilder(health).build(), HttpResponse.BodyHandlers.ofString());

            assertThat(lapsed.statusCode()).isEqualTo(503);
            Document lapsedAnswer = Document.parse(lapsed.body());
            assertThat(lapsedAnswer.getString("status")).isEqualTo("DOWN");
            assertThat(lapsedAnswer.getBoolean("leaseValid")).isFalse();
            assertThat(lapsedAnswer.getList("reasons", String.class)).anySatisfy(reason -> assertThat(reason).contains("lease ran out", "refuses writes"));
            assertThat(stale.statusCode()).isEqualTo(503);
            Document staleAnswer = Document.parse(stale.body());
            assertThat(staleAnswer.get("routingAgeMillis", Number.class).longValue()).isGreaterThan(500 + staleness.toMillis());
            assertThat(staleAnswer.getList("reasons", String.class)).anySatisfy(reason -> assertThat(reason).contains("maxReadStaleness (1000 ms)"));
            assertThatThrownBy(() -> lapsing.find("acme", ns, FindRequest.of(new Document())))
                .as("and reads are refused indeed").isInstanceOfSatisfying(RouterException.class,
                    e -> assertThat(e.getMessage()).contains("has not confirmed its routing"));
        } finally {
            own.publisher.close();
        }
    }
}
