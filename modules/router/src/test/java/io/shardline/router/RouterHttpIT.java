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

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.http.RouterHttpServer;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/** The router's HTTP API on real shards: answers in extended JSON, errors that name the problem, health, metrics. */
@ShardlineCluster
class RouterHttpIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static ShardRouter router;
    private static RouterHttpServer server;
    private static String base;

    @BeforeAll
    static void start(EmbeddedCluster cluster, TestNames names) throws Exception {
        RouterFixture fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        String ns = names.database() + ".users";
        fixture.namespace(ns, ShardKeyStrategyType.HASHED, List.of("_id"),
            InitialChunks.layout(ns, 1, InitialChunks.hashedBoundaries(4), List.of("s1", "s2")));
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog), prometheus, Duration.ofSeconds(60));
        server = RouterHttpServer.start(router, "127.0.0.1", 0, 8, prometheus);
        base = "http://127.0.0.1:" + server.port() + "/v1/" + names.database() + "/users/";
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        router.close();
    }

    private static HttpResponse<String> post(String op, String tenant, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + op)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (tenant != null) {
            request.header(RouterHttpServer.TENANT_HEADER, tenant);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldInsertAndFindInExtendedJson() throws Exception {
        HttpResponse<String> inserted = post("insert", "acme", """
            {"documents": [{"_id": "u1", "name": "Ann", "age": 31, "at": {"$date": "2026-01-01T00:00:00Z"}},
                           {"_id": "u2", "name": "Bob", "age": 25}, {"_id": "u3", "name": "Cy", "age": 40}]}""");
        HttpResponse<String> found = post("find", "acme", """
            {"filter": {"age": {"$gte": 30}}, "sort": {"age": -1}, "limit": 5, "projection": {"name": 1}}""");
        HttpResponse<String> counted = post("count", "acme", "{}");

        assertThat(inserted.statusCode()).isEqualTo(200);
        assertThat(Document.parse(inserted.body()).get("inserted", Number.class).longValue()).isEqualTo(3);
        assertThat(found.statusCode()).isEqualTo(200);
        Document answer = Document.parse(found.body());
        assertThat(answer.getBoolean("partial")).isFalse();
        assertThat(answer.getList("documents", Document.class))
            .containsExactly(new Document("_id", "u3").append("name", "Cy"), new Document("_id", "u1").append("name", "Ann"));
        assertThat(Document.parse(counted.body()).get("n", Number.class).longValue()).isEqualTo(3);
    }

    @Test
    void shouldAnswer400NamingTheProblemOfAMalformedRequest() throws Exception {
        HttpResponse<String> noTenant = post("find", null, "{}");
        HttpResponse<String> notJson = post("find", "acme", "{filter: ");
        HttpResponse<String> badLimit = post("find", "acme", "{\"limit\": \"ten\"}");
        HttpResponse<String> noDocuments = post("insert", "acme", "{\"documents\": []}");
        HttpResponse<String> noShardKey = post("distinct", "acme", "{}");

        assertThat(noTenant.statusCode()).isEqualTo(400);
        assertThat(noTenant.body()).contains(RouterHttpServer.TENANT_HEADER);
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(notJson.body()).contains("body");
        assertThat(badLimit.statusCode()).isEqualTo(400);
        assertThat(badLimit.body()).contains("limit");
        assertThat(noDocuments.statusCode()).isEqualTo(400);
        assertThat(noDocuments.body()).contains("documents");
        assertThat(noShardKey.statusCode()).isEqualTo(400);
        assertThat(noShardKey.body()).contains("key");
    }

    @Test
    void shouldAnswer403ForJavaScriptOrAnotherTenantAnd404ForAnUnknownOperation() throws Exception {
        assertThat(post("find", "acme", "{\"filter\": {\"$where\": \"true\"}}").statusCode()).isEqualTo(403);
        assertThat(post("count", "acme", "{\"filter\": {\"tenantId\": \"other\"}}").statusCode()).isEqualTo(403);
        HttpResponse<String> unknown = post("mapReduce", "acme", "{}");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("mapReduce");
    }

    @Test
    void shouldReportHealthAndPrometheusMetricsWithTheRoutersMeterNames() throws Exception {
        post("find", "acme", "{}");
        HttpResponse<String> health = HTTP.send(HttpRequest.newBuilder(URI.create(base.replaceAll("/v1/.*", "/health"))).build(),
            HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(URI.create(base.replaceAll("/v1/.*", "/metrics"))).build(),
            HttpResponse.BodyHandlers.ofString());

        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(Document.parse(health.body()).getString("status")).isEqualTo("UP");
        assertThat(metrics.body()).contains("shard_query_latency_seconds_bucket", "cross_shard_query_total", "shard_connection_count",
            "shard_connection_in_use{shard=\"s1\"}", "shard_connection_wait_queue{shard=\"s1\"}", "shard_connection_max{shard=\"s1\"} 100");
        assertThat(metrics.body()).as("requests by operation and status")
            .contains("shardline_http_requests_seconds_count{operation=\"find\",status=\"200\"");
    }
}
