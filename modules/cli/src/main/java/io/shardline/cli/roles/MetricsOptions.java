package io.shardline.cli.roles;

import java.io.PrintWriter;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import picocli.CommandLine.Option;

/** {@code --metrics-port} and {@code --metrics-host} of a role without an HTTP service of its own. */
final class MetricsOptions {

    @Option(names = "--metrics-port", defaultValue = "-1",
        description = "Serve GET /metrics (Prometheus) on this port, 0 for a free one (default: not served).")
    int port;

    @Option(names = "--metrics-host", defaultValue = "0.0.0.0", description = "Address /metrics listens on (default: ${DEFAULT-VALUE}).")
    String host;

    /** Serves the registry as the options say; {@code null} when no port is given. */
    MetricsEndpoint serve(PrometheusMeterRegistry meters, PrintWriter out) throws Exception {
        if (port < 0) {
            return null;
        }
        MetricsEndpoint endpoint = MetricsEndpoint.start(meters, host, port);
        out.println("metrics on " + host + ":" + endpoint.port() + "/metrics");
        return endpoint;
    }

    /** Closes what {@code running} needs, then the endpoint if one is served. */
    static AutoCloseable closing(AutoCloseable running, MetricsEndpoint endpoint) {
        return () -> {
            try {
                running.close();
            } finally {
                if (endpoint != null) {
                    endpoint.close();
                }
            }
        };
    }
}
