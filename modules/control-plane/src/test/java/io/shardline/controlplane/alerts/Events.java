package io.shardline.controlplane.alerts;

import java.time.Instant;
import java.util.List;

import io.shardline.schemas.avro.Alert;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;

/** Events and alerts for the alerter's tests. */
final class Events {

    static final Instant T0 = Instant.parse("2026-11-30T12:00:00.250Z");

    private Events() {
    }

    static ShardEvent shard(String id, ShardEventType type, String shardId, Instant at) {
        return ShardEvent.newBuilder().setEventId(id).setType(type).setTimestamp(at).setSource("worker:w1").setShardId(shardId)
            .setReason(type + " of " + shardId).build();
    }

    static ShardEvent migration(String id, ShardEventType type, String migrationId, String shardId, Instant at) {
        return ShardEvent.newBuilder().setEventId(id).setType(type).setTimestamp(at).setSource("worker:w1").setShardId(shardId)
            .setNamespace("auth.users").setMigrationId(migrationId).setReason(type + " of " + migrationId).build();
    }

    /** What the firing state is once these alerts are written. */
    static FiringAlerts written(List<Alert> alerts) {
        FiringAlerts firing = new FiringAlerts();
        alerts.forEach(alert -> firing.record(alert, T0));
        return firing;
    }
}
