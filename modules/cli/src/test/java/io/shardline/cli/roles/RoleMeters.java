package io.shardline.cli.roles;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.shardline.backup.ClusterBackups;
import io.shardline.backup.ShardBackup;
import io.shardline.controller.DeadLetterMeters;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.alerts.AlertRules;
import io.shardline.controlplane.alerts.AlerterMeters;
import io.shardline.router.internal.RouterMetrics;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.worker.runner.WorkerMeters;

/**
 * The meters the roles register on their Prometheus registries, built without a cluster: each role's meter classes on a
 * registry of its own, each meter given one value (most are registered on first use), then scraped. The worker's shard
 * health gauges are registered only by a worker holding the commands: {@link AlertRulesMetricsIT} scrapes them.
 */
final class RoleMeters {

    private RoleMeters() {
    }

    /** The sample names of every role's scrape. */
    static Set<String> withoutACluster() {
        Set<String> names = new TreeSet<>();
        names.addAll(PrometheusRules.scraped(router()));
        names.addAll(PrometheusRules.scraped(worker()));
        names.addAll(PrometheusRules.scraped(controller()));
        names.addAll(PrometheusRules.scraped(backupAgent()));
        return names;
    }

    static String router() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RouterMetrics meters = new RouterMetrics(registry);
        meters.staleRouting();
        meters.crossShard(2, true);
        meters.timed("s1", "find", () -> 1);
        meters.connectionListener("s1", 100);
        meters.lease(() -> true);
        meters.standbyWait("timeout", 5_000_000_000L);
        meters.transactionsInDoubt(() -> 0);
        meters.transactionEnded("committed");
        meters.transactionCommit(5_000_000L);
        meters.transactionRecovered();
        return registry.scrape();
    }

    static String worker() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        WorkerMeters meters = new WorkerMeters(registry, "w1", state -> { });
        meters.replayLag("m1", 120, 40);
        meters.copied(10, 1_000);
        meters.fenceHeld(Duration.ofMillis(30));
        meters.throttled(Duration.ofMillis(5));
        return registry.scrape();
    }

    /** The controller's own meters and its alerter's. */
    static String controller() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        TopicCatalog catalog = catalog();
        List<String> dlqs = List.of(catalog.commandsDlq().name(), catalog.cdcDlq().name(), catalog.controlDlq().name());
        new DeadLetterMeters(registry, dlqs, topics -> Map.of(catalog.controlDlq().name(), 2L)).refresh();
        AlerterMeters alerter = new AlerterMeters(registry, AlertRules.DEFAULT, alertname -> 0);
        alerter.failed("http_503");
        alerter.delivered(1);
        return registry.scrape();
    }

    static String backupAgent() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ClusterBackups backups = new ClusterBackups(new ControlPlaneClient("127.0.0.1:1", catalog()),
            new ShardBackup.Settings(Path.of("backups"), false, Duration.ofSeconds(30)), "backup-agent", registry);
        backups.taken("s1", Instant.now().minusSeconds(60).toEpochMilli());
        return registry.scrape();
    }

    private static TopicCatalog catalog() {
        return new TopicCatalog(TopicCatalog.DEFAULT_PREFIX, new RegistrySerdes("http://127.0.0.1:1"));
    }
}
