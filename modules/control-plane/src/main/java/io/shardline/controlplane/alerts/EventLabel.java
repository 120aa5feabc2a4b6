package io.shardline.controlplane.alerts;

import java.util.function.Function;

import io.shardline.schemas.avro.ShardEvent;

/** A label an alert takes from its event: the label's name, and the event field it is read from. */
public enum EventLabel {
    SHARD("shard", "shardId", ShardEvent::getShardId),
    MIGRATION("migration", "migrationId", ShardEvent::getMigrationId),
    NAMESPACE("namespace", "namespace", ShardEvent::getNamespace);

    private final String label;
    private final String field;
    private final Function<ShardEvent, String> read;

    EventLabel(String label, String field, Function<ShardEvent, String> read) {
        this.label = label;
        this.field = field;
        this.read = read;
    }

    /** The label's name, as Alertmanager gets it. */
    public String label() {
        return label;
    }

    /** The event field the label is read from. */
    public String field() {
        return field;
    }

    /**
     * The label's value in {@code event}.
     *
     * @throws UnusableEvent naming the field when the event does not carry it
     */
    String of(ShardEvent event) {
        String value = read.apply(event);
        if (value == null || value.isBlank()) {
            throw new UnusableEvent(field, "event " + event.getEventId() + " (" + event.getType() + "): " + field
                + " is missing; the " + label + " label of its alert is read from it");
        }
        return value;
    }
}
