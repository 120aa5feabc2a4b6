package io.shardline.admin;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.controlplane.CommandPlanner;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.ShardSummary;
import io.shardline.controlplane.TopicTail;
import io.shardline.core.key.KeyHex;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardStats;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authorization.Authorization;
import io.vertx.ext.auth.authorization.OrAuthorization;
import io.vertx.ext.auth.authorization.PermissionBasedAuthorization;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.auth.jwt.authorization.JWTAuthorization;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.AuthorizationHandler;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.JWTAuthHandler;

/**
 * The admin HTTP API. Every route under {@code /api/admin} needs a bearer token: a JWT signed with the configured
 * HS256 secret, its roles in the {@code roles} claim, with an expiry no further than the maximum lifetime and no
 * {@code nbf} in the future ({@link TokenPolicy}). {@code admin} may publish commands, {@code viewer} (or
 * {@code admin}) may read. Without a valid token: 401; with the wrong role: 403; a body that does not fit: 400 naming
 * the field. Every accepted command is published to the commands topic with the token's subject as issuer
 * ({@code admin:<sub>}) and audited as a {@code COMMAND_ISSUED} event.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AdminServer.class);
    private static final String ROLES_CLAIM = "roles";
    private static final int EVENTS_DEFAULT_LIMIT = 100;

    private final Vertx vertx;
    private final JWTAuth auth;
    private final ControlPlaneClient plane;
    private final TokenPolicy tokens;
    private HttpServer server;

    private AdminServer(Vertx vertx, JWTAuth auth, ControlPlaneClient plane, TokenPolicy tokens) {
        this.vertx = vertx;
        this.auth = auth;
        this.plane = plane;
        this.tokens = tokens;
    }

    /**
     * @param jwtSecret the HS256 secret tokens are signed with (at least 32 bytes)
     * @param port      port to listen on, 0 for a free one
     */
    public static AdminServer start(ControlPlaneClient plane, String jwtSecret, String host, int port) throws Exception {
        return start(plane, jwtSecret, host, port, TokenPolicy.DEFAULT_MAX_LIFETIME);
    }

    /** @param maxTokenLifetime the longest a token may be valid; a token valid for longer (or without exp) gets 401 */
    public static AdminServer start(ControlPlaneClient plane, String jwtSecret, String host, int port, java.time.Duration maxTokenLifetime)
        throws Exception {
        TokenPolicy tokens = new TokenPolicy(maxTokenLifetime, java.time.Clock.systemUTC());
        if (jwtSecret == null || jwtSecret.length() < 32) {
            throw new IllegalArgumentException("jwtSecret: an HS256 secret needs at least 32 characters");
        }
        Vertx vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(4));
        JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(jwtSecret)));
        Router router = Router.router(vertx);
        AdminServer admin = new AdminServer(vertx, auth, plane, tokens);
        admin.routes(router);
        admin.server = vertx.createHttpServer().requestHandler(router).listen(port, host)
            .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        return admin;
    }

    private void routes(Router router) {
        router.route("/api/admin/*").handler(BodyHandler.create().setBodyLimit(64 * 1024));
        router.route("/api/admin/*").handler(TokenPolicy::requireToken);
        router.route("/api/admin/*").handler(JWTAuthHandler.create(auth));
        router.route("/api/admin/*").handler(tokens::handle);
        // JWTAuthorization turns each entry of the roles claim into a permission of that name.
        Authorization reader = OrAuthorization.create().addAuthorization(PermissionBasedAuthorization.create("viewer"))
            .addAuthorization(PermissionBasedAuthorization.create("admin"));
        router.get("/api/admin/*").handler(AuthorizationHandler.create(reader).addAuthorizationProvider(JWTAuthorization.create(ROLES_CLAIM)));
        router.post("/api/admin/*").handler(AuthorizationHandler.create(PermissionBasedAuthorization.create("admin"))
            .addAuthorizationProvider(JWTAuthorization.create(ROLES_CLAIM)));

        command(router, "rebalance", (planner, body) -> planner.rebalance(optional(body, "ns")));
        command(router, "split", (planner, body) -> planner.split(optional(body, "ns"), optional(body, "chunk"), optional(body, "at"),
            optional(body, "to"), flag(body, "noMove")));
        command(router, "merge", (planner, body) -> planner.merge(optional(body, "from"), optional(body, "into")));
        command(router, "move", (planner, body) -> planner.move(optional(body, "ns"), optional(body, "chunk"), optional(body, "to")));
        command(router, "drain", (planner, body) -> planner.drain(optional(body, "shard")));
        command(router, "rollback", (planner, body) -> planner.rollback(optional(body, "migration")));
        command(router, "abort", (planner, body) -> planner.abort(optional(body, "migration")));

        read(router, "/api/admin/shards", ctx -> shards());
        read(router, "/api/admin/shards/metrics", ctx -> metrics());
        read(router, "/api/admin/shards/summary", ctx -> summary(ctx.queryParams().get("top")));
        read(router, "/api/admin/routing", ctx -> routing(ctx.queryParams().get("ns")));
        read(router, "/api/admin/migrations", ctx -> migrations());
        read(router, "/api/admin/events", this::events);

        router.route("/api/admin/*").failureHandler(ctx -> {
            int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
            String message = switch (status) {
                case 401 -> "a valid bearer token is required";
                case 403 -> "the token's roles do not allow this";
                case 413 -> "body: larger than 64 KiB";
                default -> ctx.failure() == null ? "failed" : ctx.failure().getMessage();
            };
            if (status == 500) {
                LOG.error("admin request {} {} failed", ctx.request().method(), ctx.request().path(), ctx.failure());
            }
            respond(ctx, status, new JsonObject().put("error", message).put("status", status));
        });
    }

    /** A command endpoint: {@code POST /api/admin/shards/{name}} with a JSON body. */
    private void command(Router router, String name, java.util.function.BiFunction<CommandPlanner, JsonObject, CommandPlanner.Planned> plan) {
        router.post("/api/admin/shards/" + name).blockingHandler(ctx -> {
            JsonObject body;
            try {
                body = ctx.body().isEmpty() ? new JsonObject() : ctx.body().asJsonObject();
            } catch (DecodeException | ClassCastException e) {
                respond(ctx, 400, new JsonObject().put("error", "body: not a JSON object").put("field", "body").put("status", 400));
                return;
            }
            CommandPlanner.Planned planned;
            try {
                planned = plan.apply(new CommandPlanner(plane), body == null ? new JsonObject() : body);
            } catch (CommandPlanner.InvalidCommand invalid) {
                respond(ctx, 400, new JsonObject().put("error", invalid.getMessage()).put("field", invalid.argument()).put("status", 400));
                return;
            } catch (BadField bad) {
                respond(ctx, 400, new JsonObject().put("error", bad.getMessage()).put("field", bad.field).put("status", 400));
                return;
            }
            String issuer = "admin:" + ctx.user().principal().getString("sub", "unknown");
            ShardCommand command = planned.command(issuer, body == null ? null : body.getString("reason"));
            plane.publisher().publishCommand(planned.key(), command);
            plane.publisher().publishEvent(ShardEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setType(ShardEventType.COMMAND_ISSUED)
                .setTimestamp(Instant.now()).setSource("admin").setCommandId(command.getCommandId()).setIssuer(issuer)
                .setReason(planned.body().getSchema().getName() + ": " + planned.description()).build());
            respond(ctx, 202, new JsonObject().put("commandId", command.getCommandId()).put("command", planned.body().getSchema().getName())
                .put("description", planned.description()).put("issuer", issuer));
        });
    }

    private void read(Router router, String path, Function<RoutingContext, Object> answer) {
        router.get(path).blockingHandler(ctx -> {
            try {
                respond(ctx, 200, answer.apply(ctx));
            } catch (BadField bad) {
                respond(ctx, 400, new JsonObject().put("error", bad.getMessage()).put("field", bad.field).put("status", 400));
            }
        });
    }

    private JsonArray shards() {
        JsonArray shards = new JsonArray();
        for (ShardDescriptor shard : plane.shards().values()) {
            shards.add(new JsonObject().put("shardId", shard.getShardId()).put("state", shard.getState().name())
                .put("capacityBytes", shard.getCapacityBytes()).put("capacityOpsPerSec", shard.getCapacityOpsPerSec())
                .put("connectionString", shard.getConnectionString()));
        }
        return shards;
    }

    /** Totals over every shard and the {@code top} fullest (20 by default): a cluster of 1,024 shards in one answer. */
    private JsonObject summary(String top) {
        int count = integer(top, "top", 20, 0);
        ShardSummary summary = ShardSummary.of(plane);
        ShardSummary.Totals totals = summary.totals();
        JsonArray fullest = new JsonArray();
        summary.listed(count).forEach(shard -> fullest.add(new JsonObject().put("shardId", shard.id()).put("state", shard.state())
            .put("chunks", shard.chunks()).put("documentCount", shard.documents()).put("dataBytes", shard.bytes())
            .put("storageRatio", shard.storage()).put("loadRatio", shard.load())));
        return new JsonObject().put("shards", summary.shards().size()).put("states", new JsonObject(new java.util.LinkedHashMap<>(totals.byState())))
            .put("chunks", totals.chunks()).put("documentCount", totals.documents()).put("dataBytes", totals.bytes())
            .put("storageRatio", new JsonObject().put("median", totals.storageMedian()).put("max", totals.storageMax()))
            .put("loadRatio", new JsonObject().put("median", totals.loadMedian()).put("max", totals.loadMax())).put("fullest", fullest);
    }

    private JsonArray metrics() {
        JsonArray metrics = new JsonArray();
        Map<String, Long> chunks = ShardSummary.chunksByShard(plane.routing(null));
        for (ShardStats stats : plane.stats().values()) {
            metrics.add(new JsonObject().put("shardId", stats.getShardId()).put("documentCount", stats.getDocumentCount())
                .put("dataBytes", stats.getDataBytes()).put("readsPerSec", stats.getReadsPerSec()).put("writesPerSec", stats.getWritesPerSec())
                .put("storageRatio", stats.getStorageRatio()).put("loadRatio", stats.getLoadRatio())
                .put("chunks", chunks.getOrDefault(stats.getShardId(), 0L))
                .put("updatedAt", stats.getUpdatedAt().toString()));
        }
        return metrics;
    }

    private JsonArray routing(String namespace) {
        List<ChunkRoute> chunks = plane.routing(namespace);
        if (namespace != null && chunks.isEmpty()) {
            throw new BadField("ns", "no routing for namespace " + namespace);
        }
        JsonArray routing = new JsonArray();
        for (ChunkRoute route : chunks) {
            routing.add(new JsonObject().put("namespace", route.getNamespace()).put("min", KeyHex.of(route.getMin()))
                .put("max", KeyHex.of(route.getMax())).put("shardId", route.getShardId()).put("state", route.getState().name())
                .put("version", route.getVersion()).put("migrationId", route.getMigrationId()));
        }
        return routing;
    }

    private JsonArray migrations() {
        JsonArray migrations = new JsonArray();
        for (MigrationState m : plane.migrations().values()) {
            migrations.add(new JsonObject().put("migrationId", m.getMigrationId()).put("commandId", m.getCommandId())
                .put("namespace", m.getNamespace()).put("from", m.getSourceShardId()).put("to", m.getTargetShardId())
                .put("phase", m.getPhase().name()).put("copiedDocs", m.getCopiedDocs()).put("totalDocs", m.getTotalDocs())
                .put("replayLagEvents", m.getReplayLagEvents()).put("replayLagMillis", m.getReplayLagMillis())
                .put("fenceAttempts", m.getFenceAttempts()).put("startedAt", m.getStartedAt().toString()).put("error", m.getError()));
        }
        return migrations;
    }

    private JsonArray events(RoutingContext ctx) {
        int limit = integer(ctx.queryParams().get("limit"), "limit", EVENTS_DEFAULT_LIMIT, 1);
        Set<String> types = ctx.queryParams().get("type") == null ? null : Set.of(ctx.queryParams().get("type").split(","));
        if (types != null) {
            for (String type : types) {
                try {
                    ShardEventType.valueOf(type);
                } catch (IllegalArgumentException e) {
                    throw new BadField("type", "no event type " + type);
                }
            }
        }
        List<ShardEvent> events;
        try (TopicTail<ShardEvent> tail = new TopicTail<>(plane.bootstrap(), plane.catalog().events(), true, plane.catalog().controlDlq().name(), "admin")) {
            events = tail.readToEnd().stream().map(TopicTail.Appended::value)
                .filter(e -> types == null || types.contains(e.getType().name())).toList();
        }
        JsonArray answer = new JsonArray();
        for (ShardEvent e : events.subList(Math.max(0, events.size() - limit), events.size())) {
            answer.add(new JsonObject().put("timestamp", e.getTimestamp().toString()).put("type", e.getType().name())
                .put("shardId", e.getShardId()).put("namespace", e.getNamespace()).put("source", e.getSource()).put("issuer", e.getIssuer())
                .put("commandId", e.getCommandId()).put("migrationId", e.getMigrationId()).put("reason", e.getReason())
                .put("figures", new JsonObject(Map.copyOf(e.getFigures()))));
        }
        return answer;
    }

    /** Signs a token for a subject with roles, valid for the given seconds: what an identity provider would hand out. */
    public String token(String subject, List<String> roles, int expiresInSeconds) {
        return token(auth, subject, roles, expiresInSeconds);
    }

    static String token(JWTAuth auth, String subject, List<String> roles, int expiresInSeconds) {
        return auth.generateToken(new JsonObject().put("sub", subject).put(ROLES_CLAIM, new JsonArray(roles)),
            new JWTOptions().setAlgorithm("HS256").setExpiresInSeconds(expiresInSeconds));
    }

    /** Signs a token with a secret, without a server (the {@code admin token} command). */
    public static String token(String jwtSecret, String subject, List<String> roles, int expiresInSeconds) {
        Vertx vertx = Vertx.vertx();
        try {
            JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(jwtSecret)));
            return token(auth, subject, roles, expiresInSeconds);
        } finally {
            vertx.close();
        }
    }

    public int port() {
        return server.actualPort();
    }

    private static String optional(JsonObject body, String field) {
        Object value = body.getValue(field);
        if (value != null && !(value instanceof String)) {
            throw new BadField(field, "must be a string");
        }
        return (String) value;
    }

    private static boolean flag(JsonObject body, String field) {
        Object value = body.getValue(field);
        if (value != null && !(value instanceof Boolean)) {
            throw new BadField(field, "must be true or false");
        }
        return Boolean.TRUE.equals(value);
    }

    private static int integer(String value, String field, int fallback, int least) {
        if (value == null) {
            return fallback;
        }
        try {
            int parsed = Integer.parseInt(value);
            if (parsed < least) {
                throw new BadField(field, "must be at least " + least);
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw new BadField(field, "'" + value + "' is not a number");
        }
    }

    /** A field of a request that does not fit. */
    private static final class BadField extends RuntimeException {
        private final String field;

        BadField(String field, String problem) {
            super(field + ": " + problem);
            this.field = field;
        }
    }

    private static void respond(RoutingContext ctx, int status, Object body) {
        ctx.response().setStatusCode(status).putHeader("content-type", "application/json").end(
            body instanceof JsonArray array ? array.encode() : ((JsonObject) body).encode());
    }

    @Override
    public void close() throws Exception {
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        plane.close();
    }
}
