package io.shardline.cli.roles;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

class MetricsEndpointTest {

    @Test
    void shouldServeTheRolesMetersInPrometheusFormat() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        Gauge.builder("shardline_backup_newest_age_seconds", () -> 12.5).tag("shard", "s1").register(registry);
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(registry, "127.0.0.1", 0)) {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics"))
                .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.body()).contains("shardline_backup_newest_age_seconds{shard=\"s1\"} 12.5");
        }
    }

    @Test
    void shouldServeMetricsOnlyWhenTheRoleIsGivenAPort() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        java.io.PrintWriter out = new java.io.PrintWriter(new java.io.StringWriter());
        for (Class<?> role : java.util.List.of(RoleCommands.Worker.class, RoleCommands.Controller.class, BackupAgentRole.class)) {
            String[] required = role == RoleCommands.Controller.class ? new String[] {"--state-dir", "/tmp/state"} : new String[0];
            picocli.CommandLine unset = new picocli.CommandLine(role.getDeclaredConstructor().newInstance());
            unset.parseArgs(required);
            assertThat(metricsOf(unset.getCommand()).serve(registry, out)).as("%s without --metrics-port", role.getSimpleName()).isNull();
            picocli.CommandLine set = new picocli.CommandLine(role.getDeclaredConstructor().newInstance());
            set.parseArgs(java.util.stream.Stream.concat(java.util.Arrays.stream(required), java.util.stream.Stream.of("--metrics-port", "0",
                "--metrics-host", "127.0.0.1")).toArray(String[]::new));
            try (MetricsEndpoint endpoint = metricsOf(set.getCommand()).serve(registry, out)) {
                assertThat(endpoint.port()).as(role.getSimpleName()).isPositive();
            }
        }
    }

    private static MetricsOptions metricsOf(Object role) {
        if (role instanceof RoleCommands.Worker worker) {
            return worker.metrics;
        }
        if (role instanceof RoleCommands.Controller controller) {
            return controller.metrics;
        }
        return ((BackupAgentRole) role).metricsOptions;
    }
}
