package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardline.core.key.HashedKeyStrategy;
import io.shardline.core.key.TenantKeyStrategy;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.http.RouterHttpServer;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * Updates through the HTTP API that would change a stored document's tenant or shard key, or write the stored key
 * {@code _sk}, whatever the operator: each refused with 400 naming the field, and every shard read directly shows
 * that nothing changed. Two tenants' chunks share a shard, as when one tenant could read what another wrote.
 */
@ShardlineCluster
class RouterUpdateIntegrityIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static ShardRouter router;
    private static RouterHttpServer server;
    private static ShardContents shards;
    private static String database;
    private static String users;
    private static String sessions;
    private static List<Chunk> userChunks;
    private static List<Chunk> sessionChunks;

    @BeforeAll
    static void start(EmbeddedCluster cluster, TestNames names) throws Exception {
        RouterFixture fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        database = names.database();
        users = database + ".users";
        sessions = database + ".sessions";
        userChunks = InitialChunks.layout(users, 1, InitialChunks.valueBoundaries(List.of("m")), List.of("s1", "s2"));
        sessionChunks = InitialChunks.layout(sessions, 1, InitialChunks.hashedBoundaries(2), List.of("s1", "s2"));
        fixture.namespace(users, ShardKeyStrategyType.TENANT, List.of("tenantId"), userChunks);
        fixture.namespace(sessions, ShardKeyStrategyType.HASHED, List.of("userId"), sessionChunks);
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog), prometheus, Duration.ofSeconds(60));
        server = RouterHttpServer.start(router, "127.0.0.1", 0, 4, prometheus);
        shards = new ShardContents(Map.of("s1", cluster.shards().get("s1"), "s2", cluster.shards().get("s2")));
        for (String tenant : List.of("acme", "globex")) {
            assertThat(post(tenant, "users", "insert", "{\"documents\": [{\"_id\": \"" + tenant + "-1\", \"name\": \"n\", \"other\": \"o\", "
                + "\"n\": 1, \"tags\": [\"a\"]}]}").statusCode()).isEqualTo(200);
            assertThat(post(tenant, "sessions", "insert", "{\"documents\": [{\"_id\": \"" + tenant + "-s\", \"userId\": \"" + tenant
                + "-u\", \"other\": \"u9\", \"n\": 1}]}").statusCode()).isEqualTo(200);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        router.close();
        shards.close();
    }

    private static HttpResponse<String> post(String tenant, String collection, String op, String body) throws Exception {
        return post(tenant, collection, op, HttpRequest.BodyPublishers.ofString(body));
    }

    private static HttpResponse<String> post(String tenant, String collection, String op, HttpRequest.BodyPublisher body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/" + database + "/" + collection + "/" + op))
            .header(RouterHttpServer.TENANT_HEADER, tenant).POST(body).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Posts each update of {@code updates} as acme; each must be refused with 400 naming {@code field}, nothing changed on any shard. */
    private static void refusedNaming(String collection, String field, String filter, boolean upsert, List<String> updates) throws Exception {
        String namespace = database + "." + collection;
        Map<String, List<Document>> before = shards.snapshot(namespace);
        for (String update : updates) {
            HttpResponse<String> answer = post("acme", collection, "update", "{\"filter\": " + filter + ", \"update\": " + update
                + ", \"upsert\": " + upsert + "}");
            assertThat(answer.statusCode()).as(update + " -> " + answer.body()).isEqualTo(400);
            assertThat(Document.parse(answer.body()).getString("error")).as(update).contains("'" + field + "'");
            assertThat(shards.snapshot(namespace)).as("every shard after " + update).isEqualTo(before);
        }
    }

    private static List<String> everyOperatorOn(String field, Object setValue) {
        List<String> updates = new ArrayList<>();
        String value = setValue instanceof String text ? "\"" + text + "\"" : String.valueOf(setValue);
        updates.add("{\"$set\": {\"" + field + "\": " + value + "}}");
        updates.add("{\"$setOnInsert\": {\"" + field + "\": " + value + "}}");
        updates.add("{\"$unset\": {\"" + field + "\": \"\"}}");
        updates.add("{\"$rename\": {\"name\": \"" + field + "\"}}");
        updates.add("{\"$rename\": {\"" + field + "\": \"was\"}}");
        for (String numeric : List.of("$inc", "$mul", "$min", "$max")) {
            updates.add("{\"" + numeric + "\": {\"" + field + "\": 2}}");
        }
        updates.add("{\"$currentDate\": {\"" + field + "\": true}}");
        updates.add("{\"$bit\": {\"" + field + "\": {\"or\": 1}}}");
        for (String array : List.of("$push", "$addToSet", "$pull", "$pullAll", "$pop")) {
            updates.add("{\"" + array + "\": {\"" + field + "\": " + (array.equals("$pullAll") ? "[\"x\"]" : array.equals("$pop") ? "1" : "\"x\"") + "}}");
        }
        updates.add("{\"$set\": {\"" + field + ".x\": 1}}");
        updates.add("{\"$unset\": {\"" + field + ".0\": \"\"}}");
        updates.add("{\"$set\": {\"n\": 2}, \"$rename\": {\"other\": \"" + field + "\"}}");
        return updates;
    }

    @Test
    void shouldRefuseEveryOperatorOnTheTenantFieldOfATenantKeyedNamespace() throws Exception {
        refusedNaming("users", "tenantId", "{\"_id\": \"acme-1\"}", false, everyOperatorOn("tenantId", "globex"));
        refusedNaming("users", "tenantId", "{\"_id\": \"acme-new\"}", true, List.of("{\"$setOnInsert\": {\"tenantId\": \"globex\"}}",
            "{\"$set\": {\"tenantId\": \"globex\"}}"));
        assertThat(shards.misplaced(users, new TenantKeyStrategy("tenantId", null, 0), userChunks)).isEmpty();
    }

    @Test
    void shouldRefuseEveryOperatorOnTheShardKeyAndTheTenantOfAHashedNamespace() throws Exception {
        refusedNaming("sessions", "userId", "{\"_id\": \"acme-s\"}", false, everyOperatorOn("userId", "u2"));
        refusedNaming("sessions", "tenantId", "{\"_id\": \"acme-s\"}", false, everyOperatorOn("tenantId", "globex"));
        refusedNaming("sessions", "userId", "{\"userId\": \"acme-new\"}", true, List.of("{\"$setOnInsert\": {\"userId\": \"u2\"}}"));
        refusedNaming("sessions", "userId", "{\"userId\": \"acme-u\"}", false, List.of("{\"userId\": \"u2\", \"n\": 5}"));
        refusedNaming("sessions", "userId", "{\"userId\": \"acme-u2\", \"userId.x\": 1}", true, List.of("{\"$set\": {\"n\": 5}}"));
        assertThat(shards.misplaced(sessions, new HashedKeyStrategy("userId"), sessionChunks)).isEmpty();
    }

    @Test
    void shouldNameTheReservedFieldWhenAnUpdateWritesTheStoredKey() throws Exception {
        for (String collection : List.of("users", "sessions")) {
            refusedNaming(collection, "_sk", "{\"_id\": \"acme-1\"}", false, List.of("{\"$rename\": {\"name\": \"_sk\"}}",
                "{\"$set\": {\"_sk\": \"zz\"}}", "{\"$unset\": {\"_sk\": \"\"}}", "{\"$set\": {\"_sk.x\": 1}}", "{\"name\": \"r\", \"_sk\": \"zz\"}"));
        }
        HttpResponse<String> rename = post("acme", "users", "update", "{\"filter\": {}, \"update\": {\"$rename\": {\"name\": \"_sk\"}}}");
        assertThat(rename.body()).doesNotContain("tenantId");
    }

    @Test
    void shouldRefuseAPipelineAndAnUnknownOperator() throws Exception {
        Map<String, List<Document>> before = shards.snapshot(users);
        for (String update : List.of("[{\"$set\": {\"tenantId\": \"globex\"}}]", "{\"$replaceWith\": {\"tenantId\": \"globex\"}}")) {
            HttpResponse<String> answer = post("acme", "users", "update", "{\"filter\": {}, \"update\": " + update + "}");
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(400);
            assertThat(answer.body()).contains("update");
        }
        assertThat(shards.snapshot(users)).isEqualTo(before);
    }

    @Test
    void shouldStillApplyUpdatesThatKeepTheTenantAndKeyAndGiveANewDocumentTheCallersTenant() throws Exception {
        assertThat(post("acme", "users", "update", "{\"filter\": {\"_id\": \"acme-1\"}, \"update\": {\"$set\": {\"name\": \"Ann\", "
            + "\"tenantId\": \"acme\"}, \"$inc\": {\"n\": 1}}}").statusCode()).isEqualTo(200);
        HttpResponse<String> upsert = post("acme", "sessions", "update", "{\"filter\": {\"userId\": \"acme-up\"}, \"update\": "
            + "{\"$setOnInsert\": {\"tenantId\": \"acme\", \"userId\": \"acme-up\"}, \"$set\": {\"n\": 1}}, \"upsert\": true}");
        HttpResponse<String> replace = post("acme", "sessions", "update", "{\"filter\": {\"userId\": \"acme-u\"}, \"update\": {\"n\": 7}}");

        assertThat(upsert.statusCode()).as(upsert.body()).isEqualTo(200);
        assertThat(replace.statusCode()).as(replace.body()).isEqualTo(200);
        List<Document> stored = shards.snapshot(sessions).values().stream().flatMap(List::stream).toList();
        assertThat(stored).filteredOn(d -> "acme-up".equals(d.get("userId"))).singleElement()
            .satisfies(d -> assertThat(d.get("tenantId")).isEqualTo("acme"));
        assertThat(stored).filteredOn(d -> "acme-s".equals(d.get("_id"))).singleElement()
            .satisfies(d -> assertThat(d).containsEntry("n", 7).containsEntry("userId", "acme-u").containsEntry("tenantId", "acme"));
        assertThat(shards.snapshot(users).get("s1")).filteredOn(d -> "acme-1".equals(d.get("_id"))).singleElement()
            .satisfies(d -> assertThat(d).containsEntry("name", "Ann").containsEntry("n", 2).containsEntry("tenantId", "acme"));
        assertThat(shards.misplaced(sessions, new HashedKeyStrategy("userId"), sessionChunks)).isEmpty();
        assertThat(shards.misplaced(users, new TenantKeyStrategy("tenantId", null, 0), userChunks)).isEmpty();
    }
}
