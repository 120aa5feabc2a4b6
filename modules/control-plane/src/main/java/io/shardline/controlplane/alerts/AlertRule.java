package io.shardline.controlplane.alerts;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.shardline.schemas.avro.AlertSeverity;
import io.shardline.schemas.avro.ShardEventType;

/**
 * One line of the rules table: an event type that raises an alert (with its severity, the labels taken from the event
 * and a summary over them), or that resolves the firing alerts of a name whose labels match the event's.
 *
 * @param on            the event type the rule applies to
 * @param alertname     the alert raised or resolved
 * @param effect        raise or resolve
 * @param severity      of a raised alert; {@code null} for a resolving rule
 * @param labels        a raised alert's labels, read from the event; for a resolving rule, the labels that must match
 * @param summary       a raised alert's summary, {@code {label}} replaced by the label's value; {@code null} for a resolving rule
 * @param resolvesAfter a raised alert that no event resolves within this is resolved by the alerter; {@code null}: never
 */
public record AlertRule(ShardEventType on, String alertname, Effect effect, AlertSeverity severity, List<EventLabel> labels,
                        String summary, Duration resolvesAfter) {

    /** What a rule does with its event. */
    public enum Effect {
        /** Raise the alert, unless one with the same labels fires already. */
        FIRE,
        /** Resolve every firing alert of the name whose labels match the event's. */
        RESOLVE
    }

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-z]+)}");

    public AlertRule {
        Objects.requireNonNull(on, "on");
        Objects.requireNonNull(alertname, "alertname");
        Objects.requireNonNull(effect, "effect");
        labels = List.copyOf(labels);
        if (!alertname.matches("[A-Za-z][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException("alertname must be a word of letters, digits and '_', was " + alertname);
        }
        if (labels.isEmpty()) {
            throw new IllegalArgumentException(alertname + " on " + on + ": at least one label, or every event would be one alert");
        }
        if (effect == Effect.FIRE) {
            Objects.requireNonNull(severity, "severity");
            Objects.requireNonNull(summary, "summary");
            Matcher placeholders = PLACEHOLDER.matcher(summary);
            while (placeholders.find()) {
                String name = placeholders.group(1);
                if (labels.stream().noneMatch(label -> label.label().equals(name))) {
                    throw new IllegalArgumentException(alertname + ": the summary names {" + name + "}, which is not one of its labels " + labels);
                }
            }
            if (resolvesAfter != null && (resolvesAfter.isZero() || resolvesAfter.isNegative())) {
                throw new IllegalArgumentException(alertname + ": resolvesAfter must be positive, was " + resolvesAfter);
            }
        } else if (severity != null || summary != null || resolvesAfter != null) {
            throw new IllegalArgumentException(alertname + " on " + on + ": a resolving rule takes no severity, summary or resolvesAfter");
        }
    }

    /** {@code on} raises {@code alertname} with {@code labels} read from the event. */
    public static AlertRule fires(ShardEventType on, String alertname, AlertSeverity severity, String summary, EventLabel... labels) {
        return new AlertRule(on, alertname, Effect.FIRE, severity, List.of(labels), summary, null);
    }

    /** {@code on} resolves the firing {@code alertname} alerts whose {@code matching} labels equal the event's. */
    public static AlertRule resolves(ShardEventType on, String alertname, EventLabel... matching) {
        return new AlertRule(on, alertname, Effect.RESOLVE, null, List.of(matching), null, null);
    }

    /** This raising rule, its alerts resolved by the alerter once they fired for {@code bound} without an event resolving them. */
    public AlertRule resolvedAfter(Duration bound) {
        if (effect != Effect.FIRE) {
            throw new IllegalArgumentException(alertname + " on " + on + ": only a raising rule is resolved after a time");
        }
        return new AlertRule(on, alertname, effect, severity, labels, summary, bound);
    }

    /** The summary with each {@code {label}} replaced by its value. */
    String summaryFor(java.util.Map<String, String> values) {
        Matcher placeholders = PLACEHOLDER.matcher(summary);
        StringBuilder out = new StringBuilder();
        while (placeholders.find()) {
            placeholders.appendReplacement(out, Matcher.quoteReplacement(values.get(placeholders.group(1))));
        }
        placeholders.appendTail(out);
        return out.toString();
    }
}
