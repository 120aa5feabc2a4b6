package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.http.RouterHttpServer;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * Input that could corrupt placement or break a MongoDB client, refused by the HTTP API before it reaches a shard:
 * the reserved stored shard key {@code _sk} in documents, updates and filters; nesting deeper than MongoDB allows;
 * documents over MongoDB's size limit; bodies over the server's configured limit. Every shard is read directly to
 * show that nothing was stored.
 */
@ShardlineCluster
class RouterInputIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final long SMALL_LIMIT = 64 * 1024;
    private static ShardRouter router;
    private static RouterHttpServer small;
    private static RouterHttpServer large;
    private static String database;
    private static List<MongoClient> shards;

    @BeforeAll
    static void start(EmbeddedCluster cluster, TestNames names) throws Exception {
        RouterFixture fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        database = names.database();
        String ns = database + ".users";
        fixture.namespace(ns, ShardKeyStrategyType.HASHED, List.of("_id"),
            InitialChunks.layout(ns, 1, InitialChunks.hashedBoundaries(2), List.of("s1", "s2")));
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog), prometheus, Duration.ofSeconds(60));
        small = RouterHttpServer.start(router, "127.0.0.1", 0, 4, prometheus, SMALL_LIMIT);
        large = RouterHttpServer.start(router, "127.0.0.1", 0, 4, prometheus, 40L * 1024 * 1024);
        shards = List.of(MongoClients.create(cluster.shards().get("s1").connectionString()),
            MongoClients.create(cluster.shards().get("s2").connectionString()));
    }

    @AfterAll
    static void stop() throws Exception {
        small.close();
        large.close();
        router.close();
        shards.forEach(MongoClient::close);
    }

    private static HttpResponse<String> post(RouterHttpServer server, String op, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/" + database + "/users/" + op))
            .header(RouterHttpServer.TENANT_HEADER, "acme").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static long stored(String id) {
        return shards.stream().mapToLong(client -> client.getDatabase(database).getCollection("users").countDocuments(Filters.eq("_id", id))).sum();
    }

    private static String nested(int depth, String leaf) {
        return "{\"a\": ".repeat(depth) + leaf + "}".repeat(depth);
    }

    @Test
    void shouldRefuseTheReservedShardKeyFieldWhereverAClientPutsIt() throws Exception {
        HttpResponse<String> insert = post(small, "insert", "{\"documents\": [{\"_id\": \"sk1\", \"_sk\": \"ff\"}]}");
        assertThat(post(small, "insert", "{\"documents\": [{\"_id\": \"sk2\"}]}").statusCode()).isEqualTo(200);
        HttpResponse<String> set = post(small, "update", "{\"filter\": {\"_id\": \"sk2\"}, \"update\": {\"$set\": {\"_sk\": \"zz\"}}}");
        HttpResponse<String> rename = post(small, "update", "{\"filter\": {\"_id\": \"sk2\"}, \"update\": {\"$rename\": {\"name\": \"_sk\"}}}");
        HttpResponse<String> dotted = post(small, "update", "{\"filter\": {\"_id\": \"sk2\"}, \"update\": {\"$unset\": {\"_sk.x\": 1}}}");
        HttpResponse<String> filter = post(small, "find", "{\"filter\": {\"_sk\": {\"$gt\": \"\"}}}");
        HttpResponse<String> projection = post(small, "find", "{\"projection\": {\"_sk\": 1}}");

        for (HttpResponse<String> refused : List.of(insert, set, rename, dotted, filter, projection)) {
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
            assertThat(refused.body()).contains("_sk", "reserved");
        }
        assertThat(stored("sk1")).isZero();
        String key = shards.stream().map(client -> client.getDatabase(database).getCollection("users").find(Filters.eq("_id", "sk2")).first())
            .filter(java.util.Objects::nonNull).findFirst().orElseThrow().getString("_sk");
        assertThat(key).as("the stored key of sk2 is the router's").isNotEqualTo("zz").hasSizeGreaterThan(2);
    }

    @Test
    void shouldRefuseNestingDeeperThanMongoDbAllowsWithoutOverflowingTheStack() throws Exception {
        HttpResponse<String> deepDocument = post(small, "insert", "{\"documents\": [{\"_id\": \"deep\", \"d\": " + nested(150, "1") + "}]}");
        HttpResponse<String> deepFilter = post(large, "find", "{\"filter\": {\"x\": " + nested(10_000, "1") + "}}");
        HttpResponse<String> allowed = post(small, "insert", "{\"documents\": [{\"_id\": \"fine\", \"d\": " + nested(90, "1") + "}]}");

        assertThat(deepDocument.statusCode()).isEqualTo(400);
        assertThat(deepDocument.body()).contains("nested");
        assertThat(deepFilter.statusCode()).isEqualTo(400);
        assertThat(deepFilter.body()).contains("nested");
        assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(200);
        assertThat(stored("deep")).isZero();
        assertThat(stored("fine")).isEqualTo(1);
    }

    @Test
    void shouldAnswer413ForABodyOverTheConfiguredLimitAndADocumentOverSixteenMebibytes() throws Exception {
        String medium = "{\"documents\": [{\"_id\": \"medium\", \"blob\": \"" + "x".repeat(100 * 1024) + "\"}]}";
        HttpResponse<String> overSmall = post(small, "insert", medium);
        assertThat(overSmall.statusCode()).isEqualTo(413);
        assertThat(stored("medium")).isZero();
        assertThat(post(large, "insert", medium).statusCode()).as("the same body under a larger limit").isEqualTo(200);

        HttpResponse<String> huge = post(large, "insert", "{\"documents\": [{\"_id\": \"huge\", \"blob\": \"" + "x".repeat(17 * 1024 * 1024) + "\"}]}");
        assertThat(huge.statusCode()).isEqualTo(413);
        assertThat(huge.body()).contains("documents[0]", "16777216");
        assertThat(stored("huge")).isZero();
    }

    @Test
    void shouldAnswer400ForABodyThatIsNotAnObject() throws Exception {
        for (String op : List.of("find", "update", "insert", "delete")) {
            for (String body : List.of("[1,2]", "null", "42")) {
                HttpResponse<String> answer = post(small, op, body);
                assertThat(answer.statusCode()).as(op + " " + body).isEqualTo(400);
                assertThat(Document.parse(answer.body()).getString("error")).contains("body");
            }
        }
    }

    @Test
    void shouldRefuseDeepFiltersAndDocumentsInEveryWriteAsJson() throws Exception {
        assertThat(post(small, "insert", "{\"documents\": [{\"_id\": \"keep\", \"n\": 1}]}").statusCode()).isEqualTo(200);
        List<HttpResponse<String>> refused = List.of(
            post(large, "update", "{\"filter\": " + nested(10_000, "1") + ", \"update\": {\"$set\": {\"n\": 2}}}"),
            post(large, "delete", "{\"filter\": " + nested(10_000, "1") + "}"),
            post(small, "update", "{\"filter\": {\"_id\": \"keep\"}, \"update\": {\"$set\": {\"d\": " + nested(101, "1") + "}}}"),
            post(small, "update", "{\"filter\": {\"_id\": \"keep\"}, \"update\": {\"n\": 3, \"d\": " + nested(101, "1") + "}}"),
            post(small, "insert", "{\"documents\": [{\"_id\": \"deep101\", \"d\": " + nested(100, "1") + "}]}"));

        for (HttpResponse<String> answer : refused) {
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(400);
            assertThat(Document.parse(answer.body()).getString("error")).contains("nested");
        }
        Document kept = shards.stream().map(client -> client.getDatabase(database).getCollection("users").find(Filters.eq("_id", "keep")).first())
            .filter(java.util.Objects::nonNull).findFirst().orElseThrow();
        assertThat(kept).containsEntry("n", 1).doesNotContainKey("d");
        assertThat(stored("deep101")).isZero();
    }

    @Test
    void shouldRefuseABodyThatIsNotUtf8AndStoreNothing() throws Exception {
        byte[] prefix = "{\"documents\": [{\"_id\": \"latin1\", \"name\": \"caf".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] suffix = "\"}]}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] body = new byte[prefix.length + 1 + suffix.length];
        System.arraycopy(prefix, 0, body, 0, prefix.length);
        body[prefix.length] = (byte) 0xE9; // é in Latin-1: not a UTF-8 sequence
        System.arraycopy(suffix, 0, body, prefix.length + 1, suffix.length);

        HttpResponse<String> answer = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + small.port() + "/v1/" + database + "/users/insert"))
            .header(RouterHttpServer.TENANT_HEADER, "acme").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());

        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(400);
        assertThat(Document.parse(answer.body()).getString("error")).contains("UTF-8", "byte " + prefix.length);
        assertThat(stored("latin1")).isZero();
    }
}
