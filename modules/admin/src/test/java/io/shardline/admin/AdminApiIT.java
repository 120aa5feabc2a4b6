package io.shardline.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.controlplane.TopicTail;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.testing.ShardlineClusterExtension;
import io.shardline.testing.TestNames;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

/**
 * The admin API on the real broker and registry: 401 without a valid token, 403 with the wrong role, 400 naming the
 * field of a bad body, 202 for an accepted command, which lands on the commands topic with the token's subject as
 * issuer and is audited as an event; viewers read shards, routing and events.
 */
@ExtendWith(ShardlineClusterExtension.class)
class AdminApiIT {

    private static final String SECRET = "a-test-secret-of-at-least-32-characters!";

    private final HttpClient http = HttpClient.newHttpClient();
    private TopicCatalog catalog;
    private EmbeddedCluster cluster;
    private AdminServer admin;
    private String namespace;
    private List<Chunk> chunks;

    @BeforeEach
    void setUp(EmbeddedCluster cluster, TestNames names) throws Exception {
        this.cluster = cluster;
        this.catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        namespace = names.database() + ".users";
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog)) {
            for (String shard : List.of("s1", "s2")) {
                publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shard).setConnectionString("mongodb://" + shard + "/")
                    .setCapacityBytes(1L << 30).setCapacityOpsPerSec(10_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
            }
            publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(namespace).setStrategy(ShardKeyStrategyType.HASHED)
                .setShardKeyFields(List.of("userId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
            chunks = InitialChunks.layout(namespace, 1, InitialChunks.hashedBoundaries(2), List.of("s1", "s1"));
            publisher.publishRouting(namespace, chunks);
        }
        admin = AdminServer.start(new ControlPlaneClient(cluster.bootstrapServers(), catalog), SECRET, "127.0.0.1", 0);
    }

    @AfterEach
    void tearDown() throws Exception {
        admin.close();
    }

    private HttpResponse<String> post(String path, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + path))
            .POST(HttpRequest.BodyPublishers.ofString(body)).header("content-type", "application/json");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + path))
            .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private String moveBody(String to) {
        String min = chunks.get(1).min().toHex();
        return new JsonObject().put("ns", namespace).put("chunk", min).put("to", to).encode();
    }

    @Test
    void shouldSummariseTheShardsWithTotalsAndTheFullest() throws Exception {
        String viewer = admin.token("victor", List.of("viewer"), 600);

        HttpResponse<String> summary = get("/api/admin/shards/summary?top=1", viewer);

        assertThat(summary.statusCode()).as(summary.body()).isEqualTo(200);
        JsonObject body = new JsonObject(summary.body());
        assertThat(body.getInteger("shards")).isEqualTo(2);
        assertThat(body.getJsonObject("states").getLong("ACTIVE")).isEqualTo(2);
        assertThat(body.getLong("chunks")).isEqualTo(2);
        assertThat(body.getJsonArray("fullest")).hasSize(1);
        assertThat(new JsonObject(get("/api/admin/shards/summary", viewer).body()).getJsonArray("fullest")).as("up to 20 by default").hasSize(2);
        HttpResponse<String> bad = get("/api/admin/shards/summary?top=many", viewer);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(bad.body()).getString("field")).isEqualTo("top");
        assertThat(get("/api/admin/shards/summary?top=-1", viewer).statusCode()).isEqualTo(400);
    }

    @Test
    void shouldAnswer401WithoutAValidToken() throws Exception {
        String foreign = AdminServer.token("another-secret-that-is-also-32-chars-long", "mallory", List.of("admin"), 600);
        String expired;
        Vertx vertx = Vertx.vertx();
        try {
            JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
            expired = auth.generateToken(new JsonObject().put("sub", "alice").put("roles", new JsonArray().add("admin"))
                .put("exp", Instant.now().minusSeconds(3600).getEpochSecond()), new JWTOptions().setAlgorithm("HS256"));
        } finally {
            vertx.close();
        }

        assertThat(post("/api/admin/shards/move", null, moveBody("s2")).statusCode()).isEqualTo(401);
        assertThat(post("/api/admin/shards/move", "not.a.token", moveBody("s2")).statusCode()).isEqualTo(401);
        assertThat(post("/api/admin/shards/move", foreign, moveBody("s2")).statusCode()).isEqualTo(401);
        assertThat(post("/api/admin/shards/move", expired, moveBody("s2")).statusCode()).isEqualTo(401);
        assertThat(get("/api/admin/shards", foreign).statusCode()).isEqualTo(401);
    }

    private static String signed(JsonObject claims) {
        Vertx vertx = Vertx.vertx();
        try {
            JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
            return auth.generateToken(claims.put("roles", new JsonArray().add("admin").add("viewer")), new JWTOptions().setAlgorithm("HS256"));
        } finally {
            vertx.close();
        }
    }

    private HttpResponse<String> getWithHeader(AdminServer server, String authorization) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/api/admin/shards"))
            .header("Authorization", authorization).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldAnswer401ToATokenWithoutExpiryValidTooLongNotYetValidOrEmpty() throws Exception {
        long now = Instant.now().getEpochSecond();
        String noExpiry = signed(new JsonObject().put("sub", "alice").put("iat", now));
        String century = signed(new JsonObject().put("sub", "alice").put("iat", now).put("exp", now + 100L * 365 * 86_400));
        String notYet = signed(new JsonObject().put("sub", "alice").put("iat", now).put("exp", now + 600).put("nbf", now + 300));
        String fine = signed(new JsonObject().put("sub", "alice").put("iat", now).put("exp", now + 600));

        // A future nbf is refused by Vert.x's own check already (with its generic message); TokenPolicy checks it as well.
        Map<String, String> expected = Map.of(noExpiry, "exp", century, "maximum lifetime", notYet, "token");
        for (Map.Entry<String, String> token : expected.entrySet()) {
            HttpResponse<String> refused = get("/api/admin/shards", token.getKey());
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(401);
            assertThat(new JsonObject(refused.body()).getString("error")).contains(token.getValue());
            assertThat(post("/api/admin/shards/move", token.getKey(), moveBody("s2")).statusCode()).isEqualTo(401);
        }
        for (String empty : List.of("Bearer ", "Bearer", "bearer   ")) {
            HttpResponse<String> refused = getWithHeader(admin, empty);
            assertThat(refused.statusCode()).as("'" + empty + "'").isEqualTo(401);
            assertThat(new JsonObject(refused.body()).getString("error")).contains("empty");
        }
        assertThat(get("/api/admin/shards", fine).statusCode()).isEqualTo(200);
    }

    @Test
    void shouldRefuseTokensOverTheConfiguredMaximumLifetime() throws Exception {
        long now = Instant.now().getEpochSecond();
        String twoHours = signed(new JsonObject().put("sub", "alice").put("iat", now).put("exp", now + 7200));
        AdminServer strict = AdminServer.start(new ControlPlaneClient(cluster.bootstrapServers(), catalog), SECRET, "127.0.0.1", 0,
            java.time.Duration.ofHours(1));
        try {
            assertThat(get("/api/admin/shards", twoHours).statusCode()).as("under the default of 24 h").isEqualTo(200);
            HttpResponse<String> refused = getWithHeader(strict, "Bearer " + twoHours);
            assertThat(refused.statusCode()).isEqualTo(401);
            assertThat(new JsonObject(refused.body()).getString("error")).contains("3600 s");
        } finally {
            strict.close();
        }
    }

    @Test
    void shouldAnswer403ToAViewerPublishingACommandAndToATokenWithoutRoles() throws Exception {
        String viewer = admin.token("victor", List.of("viewer"), 600);
        String nobody = admin.token("nora", List.of(), 600);

        HttpResponse<String> refused = post("/api/admin/shards/move", viewer, moveBody("s2"));

        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(new JsonObject(refused.body()).getString("error")).contains("roles");
        assertThat(get("/api/admin/shards", nobody).statusCode()).isEqualTo(403);
        assertThat(get("/api/admin/shards", viewer).statusCode()).isEqualTo(200);
    }

    @Test
    void shouldAnswer400NamingTheFieldOfABadBody() throws Exception {
        String token = admin.token("alice", List.of("admin"), 600);

        HttpResponse<String> notJson = post("/api/admin/shards/move", token, "{not json");
        HttpResponse<String> wrongType = post("/api/admin/shards/move", token, new JsonObject().put("ns", namespace).put("chunk", "min")
            .put("to", 2).encode());
        HttpResponse<String> unknownShard = post("/api/admin/shards/move", token, moveBody("s9"));
        HttpResponse<String> missing = post("/api/admin/shards/merge", token, new JsonObject().put("from", "s1").encode());
        HttpResponse<String> badFlag = post("/api/admin/shards/split", token, new JsonObject().put("ns", namespace).put("chunk", "min")
            .put("noMove", "yes").encode());
        HttpResponse<String> badLimit = get("/api/admin/events?limit=many", token);

        assertThat(List.of(notJson, wrongType, unknownShard, missing, badFlag, badLimit)).allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(400));
        assertThat(new JsonObject(notJson.body()).getString("field")).isEqualTo("body");
        assertThat(new JsonObject(wrongType.body()).getString("error")).isEqualTo("to: must be a string");
        assertThat(new JsonObject(unknownShard.body()).getString("error")).startsWith("to: no shard s9 is registered");
        assertThat(new JsonObject(missing.body()).getString("error")).isEqualTo("into: is required");
        assertThat(new JsonObject(badFlag.body()).getString("field")).isEqualTo("noMove");
        assertThat(new JsonObject(badLimit.body()).getString("field")).isEqualTo("limit");
    }

    @Test
    void shouldAnswer400NamingTheChunkWhenItIsMigratingAndPublishNothing() throws Exception {
        String token = admin.token("alice", List.of("admin"), 600);
        Chunk migrating = chunks.get(1).withOwner("s1", chunks.get(1).version() + 1, io.shardline.schemas.avro.ChunkState.MIGRATING, "m-1");
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog)) {
            publisher.publishChunk(migrating);
        }
        long before = commandsEnd();

        HttpResponse<String> move = post("/api/admin/shards/move", token, moveBody("s2"));
        HttpResponse<String> split = post("/api/admin/shards/split", token, new JsonObject().put("ns", namespace)
            .put("chunk", chunks.get(1).min().toHex()).encode());

        for (HttpResponse<String> refused : List.of(move, split)) {
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
            assertThat(new JsonObject(refused.body()).getString("field")).isEqualTo("chunk");
            assertThat(new JsonObject(refused.body()).getString("error")).contains("is migrating", "m-1");
        }
        assertThat(commandsEnd()).as("nothing published").isEqualTo(before);
    }

    private long commandsEnd() throws Exception {
        try (org.apache.kafka.clients.admin.Admin kafka = org.apache.kafka.clients.admin.Admin.create(java.util.Map.of(
            org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            org.apache.kafka.common.TopicPartition partition = new org.apache.kafka.common.TopicPartition(catalog.commands().name(), 0);
            return kafka.listOffsets(java.util.Map.of(partition, org.apache.kafka.clients.admin.OffsetSpec.latest())).partitionResult(partition).get().offset();
        }
    }

    @Test
    void shouldPublishAnAcceptedCommandWithItsIssuerAndAuditIt() throws Exception {
        String token = admin.token("alice", List.of("admin"), 600);
        String viewer = admin.token("victor", List.of("viewer"), 600);

        HttpResponse<String> accepted = post("/api/admin/shards/move", token, moveBody("s2"));

        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        JsonObject answer = new JsonObject(accepted.body());
        assertThat(answer.getString("command")).isEqualTo("MoveChunk");
        assertThat(answer.getString("issuer")).isEqualTo("admin:alice");
        ShardCommand published;
        try (TopicTail<ShardCommand> commands = new TopicTail<>(cluster.bootstrapServers(), catalog.commands(), true, catalog.controlDlq().name(), "test")) {
            published = commands.readToEnd().get(0).value();
        }
        assertThat(published.getCommandId()).isEqualTo(answer.getString("commandId"));
        assertThat(published.getIssuer()).isEqualTo("admin:alice");
        ShardEvent audit;
        try (TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), catalog.events(), true, catalog.controlDlq().name(), "test")) {
            audit = events.readToEnd().stream().map(TopicTail.Appended::value).filter(e -> e.getType() == ShardEventType.COMMAND_ISSUED)
                .findFirst().orElseThrow();
        }
        assertThat(audit.getIssuer()).isEqualTo("admin:alice");
        assertThat(audit.getCommandId()).isEqualTo(answer.getString("commandId"));

        JsonArray issued = new JsonArray(get("/api/admin/events?type=COMMAND_ISSUED", viewer).body());
        assertThat(issued).hasSize(1);
        JsonArray routing = new JsonArray(get("/api/admin/routing?ns=" + namespace, viewer).body());
        assertThat(routing).hasSize(2);
        JsonArray shards = new JsonArray(get("/api/admin/shards", viewer).body());
        assertThat(shards.stream().map(s -> ((JsonObject) s).getString("shardId")).toList()).containsExactly("s1", "s2");
        assertThat(get("/api/admin/routing?ns=nowhere.users", viewer).statusCode()).isEqualTo(400);
    }
}
