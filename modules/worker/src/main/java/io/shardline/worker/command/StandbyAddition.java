package io.shardline.worker.command;

import java.time.Instant;
import java.util.Map;

import io.shardline.controlplane.CommandRules;
import io.shardline.controlplane.CommandRules.Subject;
import io.shardline.schemas.ConnectRestClient;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.worker.health.StandbySeeder;
import io.shardline.worker.plane.ControlPlane;

/**
 * {@code AddStandby}: a registered, UP shard without a standby gets one. The standby must be empty of the shard's
 * databases and answer; it is seeded and its sink started ({@link StandbySeeder}) before the descriptor names it, so a
 * failover never promotes a standby that is not kept up to date.
 */
final class StandbyAddition {

    private final ControlPlane plane;
    private final ConnectRestClient connect;

    /** @param connect null when the worker has no Kafka Connect: every addition is refused */
    StandbyAddition(ControlPlane plane, ConnectRestClient connect) {
        this.plane = plane;
        this.connect = connect;
    }

    void add(ShardCommand command, String shardId, String standbyUri) {
        if (connect == null) {
            throw new InvalidCommand("command", "this worker runs without Kafka Connect (--connect-url), which keeps standbys up to date");
        }
        ShardDescriptor shard = InvalidCommand.checked(Map.of(Subject.SHARD, "command.shardId", Subject.TARGET, "command.connectionString"),
            () -> CommandRules.standbyAddable(plane.shards().refresh().values(), shardId, standbyUri));
        long copied;
        try {
            // A standby this shard's seeding left behind (the command carried out again after a crash) is seeded anew.
            copied = new StandbySeeder(plane, connect).seed(shard, standbyUri, StandbySeeder.seededFor(standbyUri, shardId));
        } catch (IllegalArgumentException | com.mongodb.MongoException refused) {
            throw new InvalidCommand("command.connectionString", "the standby " + standbyUri + " of " + shardId + " cannot be used: " + refused.getMessage());
        }
        plane.atomically(() -> {
            ShardDescriptor current = plane.shards().get(shardId);
            plane.publishShard(ShardDescriptor.newBuilder(current).setStandbyConnectionString(standbyUri).setVersion(current.getVersion() + 1)
                .setUpdatedAt(Instant.now()).build());
            plane.event(ShardEventType.STANDBY_ADDED, shardId, null, null, command.getCommandId(), command.getIssuer(), "shard " + shardId
                + " has a standby at " + standbyUri + ", seeded with " + copied + " documents and kept up to date from its CDC topics",
                Map.of("documents", (double) copied));
        });
    }
}
