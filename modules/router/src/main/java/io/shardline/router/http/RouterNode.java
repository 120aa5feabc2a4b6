package io.shardline.router.http;

import java.time.Duration;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;
import io.shardline.router.wire.WireServer;

/**
 * The {@code router} role: a {@link ShardRouter} served over HTTP, with its Prometheus registry, and over the MongoDB
 * wire protocol when asked for.
 */
public final class RouterNode implements AutoCloseable {

    private final ShardRouter router;
    private final RouterHttpServer http;
    private final WireServer wire;

    private RouterNode(ShardRouter router, RouterHttpServer http, WireServer wire) {
        this.router = router;
        this.http = http;
        this.wire = wire;
    }

    public static RouterNode start(RouterConfig config, String host, int port, Duration startupTimeout) throws Exception {
        return start(config, host, port, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), startupTimeout);
    }

    /** @param prometheus the registry {@code /metrics} serves; other roles of the same process may add their meters */
    public static RouterNode start(RouterConfig config, String host, int port, PrometheusMeterRegistry prometheus,
                                   Duration startupTimeout) throws Exception {
        return start(config, host, port, prometheus, startupTimeout, RouterHttpServer.DEFAULT_MAX_BODY_BYTES);
    }

    /** @param maxBodyBytes request bodies over this many bytes are refused (413) */
    public static RouterNode start(RouterConfig config, String host, int port, PrometheusMeterRegistry prometheus,
                                   Duration startupTimeout, long maxBodyBytes) throws Exception {
        return start(config, host, port, prometheus, startupTimeout, maxBodyBytes, null);
    }

    /** @param wire the wire server's settings, {@code null} for none */
    public static RouterNode start(RouterConfig config, String host, int port, PrometheusMeterRegistry prometheus,
                                   Duration startupTimeout, long maxBodyBytes, WireServer.Settings wire) throws Exception {
        ShardRouter router = ShardRouter.start(config, prometheus, startupTimeout);
        RouterHttpServer http = null;
        try {
            http = RouterHttpServer.start(router, host, port, 32, prometheus, maxBodyBytes);
            return new RouterNode(router, http, wire == null ? null : WireServer.start(router, wire));
        } catch (Exception e) {
            if (http != null) {
                http.close();
            }
            router.close();
            throw e;
        }
    }

    public ShardRouter router() {
        return router;
    }

    public String url() {
        return "http://127.0.0.1:" + http.port();
    }

    /** The wire router's connection string, or {@code null} when this node serves no wire protocol. */
    public String mongoUri() {
        return wire == null ? null : wire.uri();
    }

    @Override
    public void close() throws Exception {
        try {
            if (wire != null) {
                wire.close();
            }
        } finally {
            try {
                http.close();
            } finally {
                router.close();
            }
        }
    }
}
