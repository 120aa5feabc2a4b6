package io.shardline.cli.roles;

import java.util.concurrent.TimeUnit;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;

/** {@code GET /metrics} for a role without an HTTP service of its own: its meters in Prometheus' text format. */
final class MetricsEndpoint implements AutoCloseable {

    private final Vertx vertx;
    private final HttpServer server;

    private MetricsEndpoint(Vertx vertx, HttpServer server) {
        this.vertx = vertx;
        this.server = server;
    }

    /** Serves the registry on {@code host:port} ({@code 0}: a free port). */
    static MetricsEndpoint start(PrometheusMeterRegistry registry, String host, int port) throws Exception {
        Vertx vertx = Vertx.vertx();
        Router routes = Router.router(vertx);
        routes.get("/metrics").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4").end(registry.scrape()));
        try {
            HttpServer server = vertx.createHttpServer().requestHandler(routes).listen(port, host).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
            return new MetricsEndpoint(vertx, server);
        } catch (Exception e) {
            vertx.close();
            throw e;
        }
    }

    int port() {
        return server.actualPort();
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
