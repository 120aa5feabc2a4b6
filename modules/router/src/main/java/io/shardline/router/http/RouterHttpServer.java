package io.shardline.router.http;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.bson.Document;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardline.router.api.Explain;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.FindResult;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.RouterHealth;
import io.shardline.router.api.Scope;
import io.shardline.router.ShardRouter;
import io.shardline.router.api.WriteResult;
import io.shardline.schemas.avro.WriteDurability;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The router over HTTP: {@code POST /v1/{db}/{coll}/{op}} with the caller's tenant in {@code X-Tenant-Id} and bodies
 * in MongoDB relaxed extended JSON named as MongoDB's commands name them (a write's body may carry {@code durability}:
 * {@code standby} or {@code primary}, see {@link #writer}); {@code GET /health} ({@link RouterHealth}:
 * 503 while the router cannot serve, 200 otherwise); {@code GET /metrics} (Prometheus). Requests run on Vert.x worker
 * threads, since the router blocks on shards.
 */
public final class RouterHttpServer implements AutoCloseable {

    public static final String TENANT_HEADER = "X-Tenant-Id";
    static final List<String> OPERATIONS = List.of("find", "count", "distinct", "aggregate", "insert", "update", "delete", "explain");
    private static final Logger LOG = LoggerFactory.getLogger(RouterHttpServer.class);
    private static final JsonWriterSettings JSON = JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).build();
    /** The default limit on a request body: MongoDB's limit on one document. */
    public static final int DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

    private final Vertx vertx;
    private final HttpServer server;

    private RouterHttpServer(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    /**
     * @param port           port to listen on, 0 for a free one
     * @param workerThreads  threads that run requests against the shards
     * @param prometheus     the registry {@code /metrics} scrapes (the router's meters must be registered in it)
     */
    public static RouterHttpServer start(ShardRouter router, String host, int port, int workerThreads,
                                         PrometheusMeterRegistry prometheus) throws Exception {
        return start(router, host, port, workerThreads, prometheus, DEFAULT_MAX_BODY_BYTES);
    }

    /** @param maxBodyBytes a larger request body is refused with 413 before it is read */
    public static RouterHttpServer start(ShardRouter router, String host, int port, int workerThreads,
                                         PrometheusMeterRegistry prometheus, long maxBodyBytes) throws Exception {
        if (maxBodyBytes < 1) {
            throw new IllegalArgumentException("maxBodyBytes must be positive, was " + maxBodyBytes);
        }
        Vertx vertx = Vertx.vertx(new VertxOptions().setWorkerPoolSize(workerThreads));
        java.util.Map<String, io.micrometer.core.instrument.Timer> timers = new java.util.concurrent.ConcurrentHashMap<>();
        Router routes = Router.router(vertx);
        routes.get("/health").handler(ctx -> {
            RouterHealth health = router.health();
            ctx.response().setStatusCode(health.httpStatus()).putHeader("Content-Type", "application/json")
                .end(health.toDocument().toJson(JSON));
        });
        routes.get("/metrics").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4")
            .end(prometheus.scrape()));
        // Before the namespace route, which would take /v1/transactions/<id>/commit for an operation of database "transactions".
        List<io.vertx.ext.web.Route> transactionRoutes = List.of(routes.post("/v1/transactions"), routes.post("/v1/transactions/begin"),
            routes.post("/v1/transactions/:txn"), routes.postWithRegex("/v1/transactions/(?<txn>[^/]+)/(?<action>commit|abort)"));
        for (io.vertx.ext.web.Route route : transactionRoutes) {
            route.handler(BodyHandler.create().setBodyLimit(maxBodyBytes)).blockingHandler(ctx -> metered(timers, prometheus, ctx,
                () -> transaction(router, ctx)), false);
        }
        routes.post("/v1/:db/:coll/:op").handler(BodyHandler.create().setBodyLimit(maxBodyBytes)).blockingHandler(ctx -> metered(timers, prometheus,
            ctx, () -> {
                handle(router, ctx);
                return OPERATIONS.contains(ctx.pathParam("op")) ? ctx.pathParam("op") : "unknown";
            }), false);
        HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port)
                .setTcpNoDelay(true).setAcceptBacklog(16_384))
            .requestHandler(routes)
            .listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        return new RouterHttpServer(vertx, server);
    }

    /** Serves a request and records its time by the operation it served and the status it answered. */
    private static void metered(java.util.Map<String, io.micrometer.core.instrument.Timer> timers, PrometheusMeterRegistry prometheus,
                                RoutingContext ctx, java.util.function.Supplier<String> serve) {
        long start = System.nanoTime();
        String operation = serve.get();
        String status = Integer.toString(ctx.response().getStatusCode());
        timers.computeIfAbsent(operation + "|" + status, key -> io.micrometer.core.instrument.Timer.builder("shardline.http.requests")
                .description("requests the router's HTTP API served, by operation and status").tag("operation", operation)
                .tag("status", status).register(prometheus))
            .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }

    /** Answers with what {@code serve} gives, or with the refusal or failure it throws. */
    private static void answer(RoutingContext ctx, java.util.function.Supplier<Document> serve) {
        try {
            ctx.response().putHeader("Content-Type", "application/json").end(serve.get().toJson(JSON));
        } catch (RouterException e) {
            fail(ctx, e.kind(), e.getMessage());
        } catch (RuntimeException e) {
            LOG.error("request {} failed", ctx.request().path(), e);
            ctx.response().setStatusCode(500).putHeader("Content-Type", "application/json")
                .end(new Document("error", e.getClass().getSimpleName() + ": " + e.getMessage()).append("status", 500).toJson(JSON));
        }
    }

    private static String tenant(RoutingContext ctx) {
        String tenant = ctx.request().getHeader(TENANT_HEADER);
        if (tenant == null || tenant.isBlank()) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, TENANT_HEADER + ": header is required");
        }
        return tenant;
    }

    public int port() {
        return server.actualPort();
    }

    static void handle(ShardRouter router, RoutingContext ctx) {
        answer(ctx, () -> {
            String tenant = tenant(ctx);
            String namespace = ctx.pathParam("db") + "." + ctx.pathParam("coll");
            String op = ctx.pathParam("op");
            RequestBody body = RequestBody.parse(ctx.body().buffer() == null ? null : ctx.body().buffer().getBytes());
            return switch (op) {
                case "find" -> found(router.find(tenant, namespace, new FindRequest(body.document("filter"), body.document("sort"),
                    body.integer("skip", 0), body.integer("limit", 0), body.document("projection"), body.bool("allowPartial", false))));
                case "count" -> new Document("n", router.count(tenant, namespace, body.document("filter"), body.bool("allowPartial", false)));
                case "distinct" -> new Document("values", router.distinct(tenant, namespace, body.string("key"), body.document("filter")));
                case "aggregate" -> found(router.aggregate(tenant, namespace, body.documents("pipeline"), body.bool("allowPartial", false)));
                case "insert" -> written(router.insert(writer(tenant, body), namespace, body.documents("documents")));
                case "update" -> written(router.update(writer(tenant, body), namespace, body.document("filter"), body.requiredDocument("update"),
                    body.bool("multi", false), body.bool("upsert", false)));
                case "delete" -> written(router.delete(writer(tenant, body), namespace, body.document("filter"), body.bool("multi", false)));
                case "explain" -> explained(router.explain(tenant, namespace, body.document("filter")));
                default -> throw new RouterException(RouterException.Kind.NOT_FOUND, "op: '" + op + "' is not one of " + OPERATIONS);
            };
        });
    }

    /** Serves a transaction request ({@link TransactionRequests}); answers the operation it names, for the request meter. */
    static String transaction(ShardRouter router, RoutingContext ctx) {
        String txn = ctx.pathParam("txn");
        String action = ctx.pathParam("action");
        String operation = txn == null ? (ctx.request().path().endsWith("/begin") ? "begin" : "transaction")
            : action == null ? "statements" : action;
        answer(ctx, () -> {
            RequestBody body = RequestBody.parse(ctx.body().buffer() == null ? null : ctx.body().buffer().getBytes());
            Scope scope = writer(tenant(ctx), body);
            return switch (operation) {
                case "transaction" -> TransactionRequests.oneShot(router, scope, body);
                case "begin" -> TransactionRequests.begin(router, scope);
                case "statements" -> TransactionRequests.statements(router, scope, txn, body);
                case "commit" -> TransactionRequests.commit(router, scope, txn);
                default -> TransactionRequests.abort(router, scope, txn);
            };
        });
        return operation;
    }

    private static Document found(FindResult result) {
        return new Document("documents", result.documents()).append("partial", result.partial())
            .append("missingShards", result.missingShards()).append("shards", result.shards());
    }

    private static Document written(WriteResult result) {
        return new Document("matched", result.matched()).append("modified", result.modified())
            .append("inserted", result.inserted()).append("deleted", result.deleted())
            .append("upsertedIds", result.upsertedIds()).append("shards", result.shards());
    }

    /**
     * The caller of a write, with the durability its body's {@code durability} asks for ({@code "standby"} or
     * {@code "primary"}); without one, the namespace's own.
     */
    static Scope writer(String tenant, RequestBody body) {
        String durability = body.optionalString("durability");
        if (durability == null) {
            return Scope.tenant(tenant);
        }
        try {
            return Scope.tenant(tenant).withDurability(WriteDurability.valueOf(durability.toUpperCase(java.util.Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "durability: '" + durability + "' is not one of standby, primary");
        }
    }

    private static Document explained(Explain explain) {
        return new Document("namespace", explain.namespace()).append("allShards", explain.allShards())
            .append("reason", explain.reason()).append("keyRanges", explain.keyRanges()).append("chunks", explain.chunks())
            .append("shards", explain.shards()).append("routingVersion", explain.routingVersion());
    }

    /** The HTTP status a refusal of that kind answers with. */
    static int status(RouterException.Kind kind) {
        return switch (kind) {
            case BAD_REQUEST -> 400;
            case TOO_LARGE -> 413;
            case FORBIDDEN -> 403;
            case NOT_FOUND -> 404;
            case RETRYABLE, SHARD_DOWN -> 503;
            case SHARD_ERROR -> 502;
            case STANDBY_UNCONFIRMED, LEASE_LAPSED -> 504;
            case TRANSACTION_CONFLICT -> 409;
            case TRANSACTION_OUTCOME_UNKNOWN -> 504;
        };
    }

    /**
     * The {@code Retry-After} (seconds) a refusal of that kind carries, 0 for none: a transient condition 1 s; a DOWN
     * shard 5 s, since the health monitor marks a shard UP again only after it has answered for its up-after period
     * (5 s by default), so an earlier retry meets the same refusal.
     */
    static int retryAfterSeconds(RouterException.Kind kind) {
        return switch (kind) {
            case RETRYABLE -> 1;
            case SHARD_DOWN -> 5;
            case BAD_REQUEST, TOO_LARGE, FORBIDDEN, NOT_FOUND, SHARD_ERROR, STANDBY_UNCONFIRMED, LEASE_LAPSED, TRANSACTION_CONFLICT, TRANSACTION_OUTCOME_UNKNOWN -> 0;
        };
    }

    private static void fail(RoutingContext ctx, RouterException.Kind kind, String message) {
        int status = status(kind);
        int retryAfter = retryAfterSeconds(kind);
        if (retryAfter > 0) {
            ctx.response().putHeader("Retry-After", Integer.toString(retryAfter));
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
            .end(new Document("error", message).append("status", status).toJson(JSON));
    }

    @Override
    public void close() throws Exception {
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
