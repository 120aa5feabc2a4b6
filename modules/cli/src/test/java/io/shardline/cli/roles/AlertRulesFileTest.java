package io.shardline.cli.roles;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/**
 * {@code deploy/prometheus/alerts.yml} parses, every rule has what Alertmanager needs, and every metric its expressions
 * read is one the roles export: those the roles register without a cluster here, the worker's shard health gauge in
 * {@link AlertRulesMetricsIT}.
 */
class AlertRulesFileTest {

    /** Exported only by a worker that holds the commands and probes registered shards. */
    static final Set<String> EXPORTED_WITH_A_CLUSTER = Set.of("shard_healthy");

    @Test
    void shouldGiveEveryRuleANameAnExpressionASeverityASummaryAndADescription() throws Exception {
        List<PrometheusRules.Rule> rules = PrometheusRules.read(PrometheusRules.FILE);

        assertThat(rules).extracting(PrometheusRules.Rule::alert).contains("ShardDown", "MigrationStalled", "MigrationChangeHistoryAtRisk",
            "DeadLetterQueueGrowing", "RouterRoutingBehind", "RouterLeaseLapsed", "StandbyWritesUnconfirmed", "ShardFailedOver", "CdcReplayLagHigh", "BackupStale",
            "TransactionsInDoubt", "AlertWebhookDropping").doesNotHaveDuplicates();
        assertThat(rules).allSatisfy(rule -> {
            assertThat(rule.alert()).as("alert").matches("[A-Z][A-Za-z0-9]+");
            assertThat(rule.expr()).as(rule.alert() + ": expr").isNotBlank();
            assertThat(PrometheusRules.metricNames(rule.expr())).as(rule.alert() + ": metrics read").isNotEmpty();
            assertThat(rule.labels()).as(rule.alert() + ": labels").containsEntry("source", "prometheus")
                .hasEntrySatisfying("severity", severity -> assertThat(severity).isIn("critical", "warning", "info"));
            assertThat(rule.annotations()).as(rule.alert() + ": annotations").containsKeys("summary", "description");
            assertThat(rule.annotations().values()).as(rule.alert() + ": annotations").allSatisfy(text -> assertThat(String.valueOf(text)).isNotBlank());
        });
    }

    @Test
    void shouldReadOnlyMetricsTheRolesExport() throws Exception {
        Set<String> exported = new TreeSet<>(RoleMeters.withoutACluster());
        exported.addAll(EXPORTED_WITH_A_CLUSTER);

        assertThat(PrometheusRules.unknownNames(PrometheusRules.read(PrometheusRules.FILE), exported)).isEmpty();
    }

    @Test
    void shouldNameARuleWhoseMetricIsNotExported() throws Exception {
        Set<String> exported = new TreeSet<>(RoleMeters.withoutACluster());
        exported.addAll(EXPORTED_WITH_A_CLUSTER);
        exported.remove("shard_migration_replay_lag");

        assertThat(PrometheusRules.unknownNames(PrometheusRules.read(PrometheusRules.FILE), exported))
            .containsEntry("MigrationChangeHistoryAtRisk", Set.of("shard_migration_replay_lag"))
            .containsEntry("CdcReplayLagHigh", Set.of("shard_migration_replay_lag"));
        assertThat(PrometheusRules.unknownNames(List.of(new PrometheusRules.Rule("Renamed", "shard_migration_replay_lags > 0", Map.of(), Map.of())),
            RoleMeters.withoutACluster())).containsEntry("Renamed", Set.of("shard_migration_replay_lags"));
    }

    @Test
    void shouldExportTheMetricsTheRulesReadUnderTheirPrometheusNames() {
        assertThat(RoleMeters.withoutACluster()).contains("shard_migration_replay_lag", "router_stale_routing_total", "router_lease_valid", "router_standby_wait_seconds_count",
            "shardline_dlq_records_total", "shardline_alerts_firing", "shardline_alert_webhook_dropped_total",
            "shardline_alert_webhook_failures_total", "shardline_backup_newest_age_seconds")
            .doesNotContainAnyElementsOf(EXPORTED_WITH_A_CLUSTER);
    }

    @Test
    void shouldTakeMetricNamesAndNothingElseFromAnExpression() {
        assertThat(PrometheusRules.metricNames("min by (shard) (shard_healthy) == 0")).containsExactly("shard_healthy");
        assertThat(PrometheusRules.metricNames("max by (topic) (increase(shardline_dlq_records_total{topic=~\"a.b|c\"}[15m])) > 0"))
            .containsExactly("shardline_dlq_records_total");
        assertThat(PrometheusRules.metricNames("min_over_time(lag[30m:1m]) > 0 and deriv(lag[30m]) > 0")).containsExactly("lag");
        assertThat(PrometheusRules.metricNames("sum without (instance) (a_total) / ignoring(job) group_left(shard) b offset 5m > bool 1e3"))
            .containsExactly("a_total", "b");
        assertThat(PrometheusRules.metricNames("rate (requests_seconds_count{status='503', op=\"x(y)\"}[5m]) * 2.5e-3 unless on(instance) up"))
            .containsExactly("requests_seconds_count", "up");
        assertThat(PrometheusRules.metricNames("{__name__=\"x\"} or vector(0) or Inf")).isEmpty();
    }
}
