package io.shardline.controlplane.alerts;

import static io.shardline.controlplane.alerts.AlertRule.fires;
import static io.shardline.controlplane.alerts.AlertRule.resolves;
import static io.shardline.controlplane.alerts.EventLabel.MIGRATION;
import static io.shardline.controlplane.alerts.EventLabel.NAMESPACE;
import static io.shardline.controlplane.alerts.EventLabel.SHARD;
import static io.shardline.schemas.avro.AlertSeverity.CRITICAL;
import static io.shardline.schemas.avro.AlertSeverity.WARNING;
import static io.shardline.schemas.avro.ShardEventType.BACKUP_FAILED;
import static io.shardline.schemas.avro.ShardEventType.FAILOVER_FAILED;
import static io.shardline.schemas.avro.ShardEventType.SHARD_FAILED_OVER;
import static io.shardline.schemas.avro.ShardEventType.BACKUP_STALE;
import static io.shardline.schemas.avro.ShardEventType.BACKUP_TAKEN;
import static io.shardline.schemas.avro.ShardEventType.FENCE_TIMEOUT;
import static io.shardline.schemas.avro.ShardEventType.MIGRATION_FAILED;
import static io.shardline.schemas.avro.ShardEventType.MIGRATION_STALLED;
import static io.shardline.schemas.avro.ShardEventType.MIGRATION_STATE_CHANGED;
import static io.shardline.schemas.avro.ShardEventType.SHARD_DOWN;
import static io.shardline.schemas.avro.ShardEventType.SHARD_UP;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import io.shardline.schemas.avro.Alert;
import io.shardline.schemas.avro.AlertStatus;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;

/**
 * Which events raise which alerts and which resolve them: one {@link AlertRule} per line. An event may match several
 * lines (a failed migration resolves its stall and raises its failure); what it resolves is returned first, then what
 * it raises, each in the table's order. A raised alert that fires already (same labels) is not raised again; a resolving event
 * resolves only what fires.
 */
public final class AlertRules {

    /** The source named on alerts the alerter resolves by time. */
    public static final String ALERTER = "alerter";

    /** How long a migration's failure alert lasts when no later state of the migration resolves it (an abort ends there). */
    public static final Duration MIGRATION_FAILURE_LASTS = Duration.ofHours(1);

    /** How long the notice of a failover lasts: it needs no action, but an operator should see that one happened. */
    public static final Duration FAILOVER_NOTICE_LASTS = Duration.ofHours(1);

    /** Shardline's rules. */
    public static final AlertRules DEFAULT = new AlertRules(List.of(
        fires(SHARD_DOWN, "ShardDown", CRITICAL, "shard {shard} does not answer", SHARD),
        resolves(SHARD_UP, "ShardDown", SHARD),
        resolves(SHARD_FAILED_OVER, "ShardDown", SHARD),
        fires(SHARD_FAILED_OVER, "ShardFailedOver", WARNING, "shard {shard} failed over to its standby", SHARD).resolvedAfter(FAILOVER_NOTICE_LASTS),
        fires(FAILOVER_FAILED, "FailoverFailed", CRITICAL, "shard {shard} is DOWN and its failover failed", SHARD),
        resolves(SHARD_FAILED_OVER, "FailoverFailed", SHARD),
        resolves(SHARD_UP, "FailoverFailed", SHARD),
        fires(MIGRATION_STALLED, "MigrationStalled", WARNING, "migration {migration} of {namespace} from {shard} is stalled",
            MIGRATION, SHARD, NAMESPACE),
        resolves(MIGRATION_STATE_CHANGED, "MigrationStalled", MIGRATION),
        resolves(MIGRATION_FAILED, "MigrationStalled", MIGRATION),
        fires(MIGRATION_FAILED, "MigrationFailed", WARNING, "migration {migration} of {namespace} from {shard} failed",
            MIGRATION, SHARD, NAMESPACE).resolvedAfter(MIGRATION_FAILURE_LASTS),
        resolves(MIGRATION_STATE_CHANGED, "MigrationFailed", MIGRATION),
        fires(FENCE_TIMEOUT, "FenceTimeout", WARNING, "the fence of migration {migration} of {namespace} timed out on {shard}",
            MIGRATION, SHARD, NAMESPACE),
        resolves(MIGRATION_STATE_CHANGED, "FenceTimeout", MIGRATION),
        resolves(MIGRATION_FAILED, "FenceTimeout", MIGRATION),
        fires(BACKUP_STALE, "BackupStale", WARNING, "the newest backup of shard {shard} is stale", SHARD),
        resolves(BACKUP_TAKEN, "BackupStale", SHARD),
        fires(BACKUP_FAILED, "BackupFailed", WARNING, "a backup of shard {shard} failed", SHARD),
        resolves(BACKUP_TAKEN, "BackupFailed", SHARD)));

    private final List<AlertRule> rules;
    private final Map<ShardEventType, List<AlertRule>> byEvent = new EnumMap<>(ShardEventType.class);
    private final Map<String, AlertRule> raising = new HashMap<>();

    /**
     * @throws IllegalArgumentException when two lines raise one alert name, or a resolving line names an alert no line
     *                                  raises or a label that alert does not have
     */
    public AlertRules(List<AlertRule> rules) {
        this.rules = List.copyOf(rules);
        for (AlertRule rule : this.rules) {
            if (rule.effect() == AlertRule.Effect.FIRE && raising.put(rule.alertname(), rule) != null) {
                throw new IllegalArgumentException(rule.alertname() + " is raised by two rules; one rule per alert name");
            }
        }
        for (AlertRule rule : this.rules) {
            if (rule.effect() == AlertRule.Effect.RESOLVE) {
                AlertRule raised = raising.get(rule.alertname());
                if (raised == null) {
                    throw new IllegalArgumentException(rule.on() + " resolves " + rule.alertname() + ", which no rule raises");
                }
                if (!raised.labels().containsAll(rule.labels())) {
                    throw new IllegalArgumentException(rule.on() + " resolves " + rule.alertname() + " by " + rule.labels()
                        + ", but its alerts are labelled " + raised.labels());
                }
            }
            byEvent.computeIfAbsent(rule.on(), type -> new ArrayList<>()).add(rule);
        }
    }

    /** Every alert name a rule raises, in the table's order. */
    public Set<String> alertnames() {
        Set<String> names = new LinkedHashSet<>();
        rules.stream().filter(rule -> rule.effect() == AlertRule.Effect.FIRE).forEach(rule -> names.add(rule.alertname()));
        return names;
    }

    /**
     * The alerts an event raises or resolves, given what fires. Nothing is returned when the event lacks a field one of
     * its rules needs.
     *
     * @throws UnusableEvent naming the missing field
     */
    public List<Alert> apply(ShardEvent event, FiringAlerts firing) {
        List<Alert> changes = new ArrayList<>();
        List<AlertRule> matching = byEvent.getOrDefault(event.getType(), List.of());
        for (AlertRule rule : matching) {
            if (rule.effect() == AlertRule.Effect.RESOLVE) {
                changes.addAll(resolve(rule, event, firing));
            }
        }
        for (AlertRule rule : matching) {
            if (rule.effect() == AlertRule.Effect.FIRE) {
                Alert raised = raise(rule, event);
                if (firing.firing(raised.getFingerprint()) == null) {
                    changes.add(raised);
                }
            }
        }
        return changes;
    }

    /** The firing alerts whose rule bounds how long they fire, past that bound at {@code now}: resolved by the alerter. */
    public List<Alert> expired(FiringAlerts firing, Instant now) {
        List<Alert> expired = new ArrayList<>();
        for (Alert alert : firing.all()) {
            AlertRule rule = raising.get(alert.getAlertname());
            if (rule != null && rule.resolvesAfter() != null) {
                Instant end = alert.getStartsAt().plus(rule.resolvesAfter());
                if (!end.isAfter(now)) {
                    expired.add(resolved(alert, end, alert.getEventId(), ALERTER,
                        "no event resolved it within " + rule.resolvesAfter().toString().substring(2).toLowerCase(Locale.ROOT)));
                }
            }
        }
        return expired;
    }

    private static Alert raise(AlertRule rule, ShardEvent event) {
        Map<String, String> values = new LinkedHashMap<>();
        for (EventLabel label : rule.labels()) {
            values.put(label.label(), label.of(event));
        }
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("alertname", rule.alertname());
        labels.put("severity", rule.severity().name().toLowerCase(Locale.ROOT));
        labels.putAll(values);
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put("summary", rule.summaryFor(values));
        annotations.put("description", event.getReason());
        return Alert.newBuilder().setFingerprint(Fingerprint.of(labels)).setAlertname(rule.alertname()).setStatus(AlertStatus.FIRING)
            .setSeverity(rule.severity()).setLabels(labels).setAnnotations(annotations).setStartsAt(event.getTimestamp()).setEndsAt(null)
            .setEventId(event.getEventId()).setSource(event.getSource()).build();
    }

    private static List<Alert> resolve(AlertRule rule, ShardEvent event, FiringAlerts firing) {
        Map<String, String> matching = new HashMap<>();
        for (EventLabel label : rule.labels()) {
            matching.put(label.label(), label.of(event));
        }
        List<Alert> resolved = new ArrayList<>();
        for (Alert alert : firing.all()) {
            if (alert.getAlertname().equals(rule.alertname()) && alert.getLabels().entrySet().containsAll(matching.entrySet())) {
                Instant end = event.getTimestamp().isBefore(alert.getStartsAt()) ? alert.getStartsAt() : event.getTimestamp();
                resolved.add(resolved(alert, end, event.getEventId(), event.getSource(), event.getReason()));
            }
        }
        return resolved;
    }

    private static Alert resolved(Alert alert, Instant end, String eventId, String source, String resolution) {
        Map<String, String> annotations = new LinkedHashMap<>(alert.getAnnotations());
        annotations.put("resolution", resolution);
        return Alert.newBuilder(alert).setStatus(AlertStatus.RESOLVED).setEndsAt(end).setAnnotations(annotations)
            .setEventId(eventId).setSource(source).build();
    }
}
