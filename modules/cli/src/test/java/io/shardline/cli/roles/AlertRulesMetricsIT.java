package io.shardline.cli.roles;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;
import picocli.CommandLine;

/**
 * The worker and controller roles, started as {@code shardline worker} and {@code shardline controller} start them with
 * {@code --metrics-port}, against the test cluster with its shards registered: every metric the Prometheus rules read
 * is on their {@code GET /metrics}, or (for meters registered on first use: the router's, the replay lag, the backup
 * agent's) on the scrape of the role's meter classes given a value.
 */
@ShardlineCluster
class AlertRulesMetricsIT {

    private static final Pattern METRICS_AT = Pattern.compile("metrics on [^:]+:(\\d+)/metrics");

    @Test
    void shouldExportEveryMetricTheAlertingRulesRead(EmbeddedCluster cluster, TestNames names, @TempDir Path dir) throws Exception {
        TopicCatalog catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog)) {
            cluster.shards().forEach((id, shard) -> publisher.publishShard(ShardDescriptor.newBuilder().setShardId(id)
                .setConnectionString(shard.connectionString()).setCapacityBytes(1L << 30).setCapacityOpsPerSec(1_000).setState(ShardState.ACTIVE)
                .setVersion(1).setUpdatedAt(Instant.now()).build()));
        }
        String[] where = {"--bootstrap", cluster.bootstrapServers(), "--registry", cluster.schemaRegistryUrl(), "--topic-prefix", catalog.prefix(),
            "--metrics-port", "0", "--metrics-host", "127.0.0.1"};
        List<AutoCloseable> running = new ArrayList<>();
        try {
            StringWriter workerOut = new StringWriter();
            RoleCommands.Worker worker = parse(new RoleCommands.Worker(), where);
            running.add(worker.start(catalog, new PrintWriter(workerOut, true)));
            StringWriter controllerOut = new StringWriter();
            RoleCommands.Controller controller = parse(new RoleCommands.Controller(), concat(where, "--state-dir", dir.resolve("controller").toString()));
            running.add(controller.start(catalog, new PrintWriter(controllerOut, true)));

            String workerScrape = awaitScrape(port(workerOut), "shard_healthy{");
            String controllerScrape = awaitScrape(port(controllerOut), "shardline_dlq_records_total{");
            Set<String> exported = new TreeSet<>(RoleMeters.withoutACluster());
            exported.addAll(PrometheusRules.scraped(workerScrape));
            exported.addAll(PrometheusRules.scraped(controllerScrape));

            assertThat(PrometheusRules.scraped(workerScrape)).as("the worker role's /metrics").containsAll(AlertRulesFileTest.EXPORTED_WITH_A_CLUSTER);
            assertThat(workerScrape).contains("shard_healthy{shard=\"s1\"} 1.0", "shard_healthy{shard=\"s2\"} 1.0");
            assertThat(PrometheusRules.scraped(controllerScrape)).as("the controller role's /metrics, its alerter's included")
                .contains("shardline_dlq_records_total", "shardline_alerts_firing", "shardline_alert_webhook_dropped_total");
            assertThat(PrometheusRules.unknownNames(PrometheusRules.read(PrometheusRules.FILE), exported)).isEmpty();
        } finally {
            for (int i = running.size() - 1; i >= 0; i--) {
                running.get(i).close();
            }
        }
    }

    private static <T> T parse(T role, String... args) {
        CommandLine cli = new CommandLine(role);
        cli.parseArgs(args);
        return cli.getCommand();
    }

    private static String[] concat(String[] first, String... more) {
        List<String> all = new ArrayList<>(List.of(first));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private static int port(StringWriter out) {
        Matcher matcher = METRICS_AT.matcher(out.toString());
        assertThat(matcher.find()).as("the role says where its metrics are: " + out).isTrue();
        return Integer.parseInt(matcher.group(1));
    }

    /** Scrapes {@code GET /metrics} until it holds {@code expected}. */
    private static String awaitScrape(int port, String expected) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        String scrape = "";
        while (System.nanoTime() < deadline) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
            scrape = response.body();
            if (response.statusCode() == 200 && scrape.contains(expected)) {
                return scrape;
            }
            Thread.sleep(250);
        }
        throw new AssertionError(expected + " not on :" + port + "/metrics within 90 s:\n" + scrape);
    }
}
