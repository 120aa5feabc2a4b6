package io.shardline.controlplane.alerts;

import java.util.Locale;
import java.util.function.ToLongFunction;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardline.schemas.avro.Alert;

/**
 * The alerter's meters: {@code shardline_alerts_total{alertname,status}} (alerts written to the alerts topic),
 * {@code shardline_alerts_firing{alertname}} (one gauge per alert name of the rules, from the start),
 * {@code shardline_alert_webhook_delivered_total} (alerts Alertmanager accepted, resends included),
 * {@code shardline_alert_webhook_failures_total{cause}} (failed posts: {@code http_<status>}, {@code timeout}, {@code io})
 * and {@code shardline_alert_webhook_dropped_total} (alerts given up on after their last attempt, or with the queue full).
 */
public final class AlerterMeters {

    private final MeterRegistry registry;
    private final Counter delivered;
    private final Counter dropped;

    /** @param firing how many alerts of a name fire */
    public AlerterMeters(MeterRegistry registry, AlertRules rules, ToLongFunction<String> firing) {
        this.registry = registry;
        for (String alertname : rules.alertnames()) {
            Gauge.builder("shardline.alerts.firing", () -> firing.applyAsLong(alertname)).tag("alertname", alertname)
                .description("Alerts of a name firing, as the alerter holding the events knows them").register(registry);
        }
        this.delivered = Counter.builder("shardline.alert.webhook.delivered").description("Alerts the webhook accepted, resends included")
            .register(registry);
        this.dropped = Counter.builder("shardline.alert.webhook.dropped")
            .description("Alerts not delivered to the webhook: every attempt failed, or the queue was full").register(registry);
    }

    /** An alert written to the alerts topic. */
    public void written(Alert alert) {
        Counter.builder("shardline.alerts").description("Alerts written to the alerts topic, raised or resolved")
            .tag("alertname", alert.getAlertname()).tag("status", alert.getStatus().name().toLowerCase(Locale.ROOT))
            .register(registry).increment();
    }

    public void delivered(int alerts) {
        delivered.increment(alerts);
    }

    /** A post that failed: {@code http_<status>}, {@code timeout} or {@code io}. */
    public void failed(String cause) {
        Counter.builder("shardline.alert.webhook.failures").description("Posts of alerts to the webhook that failed").tag("cause", cause)
            .register(registry).increment();
    }

    public void dropped(int alerts) {
        dropped.increment(alerts);
    }
}
