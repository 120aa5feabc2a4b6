package io.shardline.worker.command;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import org.bson.Document;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.shardline.backup.RestoreRecords;
import io.shardline.controlplane.CommandRules;
import io.shardline.controlplane.CommandRules.Subject;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.worker.plane.ControlPlane;

/**
 * Disaster recovery ({@code ReplaceShard}): every chunk of a lost shard is handed, without copying, to a shard that
 * holds a completed restore of it, and the lost shard is retired, in one transaction. Refused unless the lost shard
 * no longer answers (a shard that answers is drained instead: its writes would otherwise be lost), the replacement is
 * registered, ACTIVE and owns nothing, its restore records ({@code shardline.restores}) show a completed restore of
 * the lost shard for every namespace it owns chunks of, and no migration involving either has not ended.
 */
final class Replacement {

    /** How long the lost shard has to answer a ping before it counts as lost. */
    private static final int PING_MILLIS = 2_000;

    private final ControlPlane plane;

    Replacement(ControlPlane plane) {
        this.plane = plane;
    }

    void replace(ShardCommand command, String shardId, String replacementId) {
        Map<String, ShardDescriptor> shards = plane.shards().refresh().values();
        List<ChunkRoute> owned = plane.routing().refresh().values().values().stream().filter(route -> route.getShardId().equals(shardId)).toList();
        InvalidCommand.checked(Map.of(Subject.SHARD, "command.shardId", Subject.TARGET, "command.replacementShardId", Subject.MIGRATION, "command.shardId"),
            () -> CommandRules.replaceable(shards, plane.routing().values().values(), plane.migrations().refresh().values().values(), shardId, replacementId));
        if (answers(shards.get(shardId).getConnectionString())) {
            throw new InvalidCommand("command.shardId", "shard " + shardId + " still answers; a replacement takes over a lost shard only "
                + "(move a live shard's chunks with drain or merge)");
        }
        Set<String> needed = new TreeSet<>(owned.stream().map(ChunkRoute::getNamespace).toList());
        Set<String> restored = restoredOn(shards.get(replacementId).getConnectionString(), shardId);
        if (!restored.containsAll(needed)) {
            Set<String> missing = new TreeSet<>(needed);
            missing.removeAll(restored);
            throw new InvalidCommand("command.replacementShardId", "shard " + replacementId + " holds no completed restore of " + shardId + " for "
                + missing + " (restore --shard " + shardId + " --into <its URI> first)");
        }
        ShardDescriptor lost = shards.get(shardId);
        plane.atomically(() -> {
            for (ChunkRoute route : owned) {
                plane.publishRoute(ChunkRoute.newBuilder(route).setShardId(replacementId).setVersion(route.getVersion() + 1).setState(ChunkState.ACTIVE)
                    .setMigrationId(null).build());
            }
            plane.publishShard(ShardDescriptor.newBuilder(lost).setState(ShardState.RETIRED).setVersion(lost.getVersion() + 1).setUpdatedAt(Instant.now()).build());
            plane.event(ShardEventType.COMMAND_ACCEPTED, shardId, null, null, command.getCommandId(), command.getIssuer(),
                "shard " + shardId + " replaced by " + replacementId + ": " + owned.size() + " chunks of " + needed + " handed over from its restore; "
                    + shardId + " retired", Map.of("chunks", (double) owned.size()));
        });
    }

    private static boolean answers(String connectionString) {
        try (MongoClient client = MongoClients.create(settings(connectionString))) {
            client.getDatabase("admin").runCommand(new Document("ping", 1));
            return true;
        } catch (RuntimeException unreachable) {
            return false;
        }
    }

    private static Set<String> restoredOn(String connectionString, String shardId) {
        try (MongoClient client = MongoClients.create(settings(connectionString))) {
            return RestoreRecords.completed(client, shardId);
        } catch (RuntimeException unreadable) {
            throw new InvalidCommand("command.replacementShardId", "the replacement's restore records cannot be read: " + unreadable.getMessage());
        }
    }

    private static MongoClientSettings settings(String connectionString) {
        return MongoClientSettings.builder().applyConnectionString(new ConnectionString(connectionString))
            .applyToClusterSettings(cluster -> cluster.serverSelectionTimeout(PING_MILLIS, TimeUnit.MILLISECONDS))
            .applyToSocketSettings(socket -> socket.connectTimeout(PING_MILLIS, TimeUnit.MILLISECONDS).readTimeout(PING_MILLIS, TimeUnit.MILLISECONDS))
            .build();
    }
}
