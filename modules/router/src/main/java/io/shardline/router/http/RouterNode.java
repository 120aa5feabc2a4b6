package io.shardline.router.http;

import java.time.Duration;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;

/** The {@code router} role: a {@link ShardRouter} served over HTTP, with its Prometheus registry. */
public final class RouterNode implements AutoCloseable {

    private final ShardRouter router;
    private final RouterHttpServer http;

    private RouterNode(ShardRouter router, RouterHttpServer http) {
        this.router = router;
        this.http = http;
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
        ShardRouter router = ShardRouter.start(config, prometheus, startupTimeout);
        try {
            return new RouterNode(router, RouterHttpServer.start(router, host, port, 32, prometheus, maxBodyBytes));
        } catch (Exception e) {
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

    @Override
    public void close() throws Exception {
        try {
            http.close();
        } finally {
            router.close();
        }
    }
}
