package io.shardline.worker.command;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
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
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.worker.plane.ControlPlane;

/**
 * Disaster recovery ({@code ReplaceShard}): every chunk of a lost shard is handed, without copying, to a shard that
 * holds a completed restore of it, and the lost shard is retired, in one transaction. Refused unless the lost shard
 * no longer answers (a shard that answers is drained instead: its writes would otherwise be lost), the replacement is
 * registered, ACTIVE and owns nothing, its restore records ({@code shardline.restores}) show, for every namespace the
 * lost shard owns chunks of, a completed restore holding every change its CDC topic captured, and no migration
 * involving either has not ended. Each chunk handed over is recorded as an ended migration (CLEANED, cut over at the
 * replacement), so that restores know who owned the range when.
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
        Map<String, Long> restored = restoredOn(shards.get(replacementId).getConnectionString(), shardId);
        for (String namespace : needed) {
            Long offset = restored.get(namespace);
            if (offset == null) {
                throw new InvalidCommand("command.replacementShardId", "shard " + replacementId + " holds no completed restore of " + namespace
                    + " of " + shardId + " (restore --shard " + shardId + " --latest --into <its URI> first)");
            }
            long captured = plane.cdcEnd(shardId, namespace);
            if (offset < captured) {
                throw new InvalidCommand("command.replacementShardId", "the restore of " + namespace + " on " + replacementId + " holds the changes of "
                    + shardId + " before offset " + offset + ", and its CDC topic holds them up to " + captured + "; restore --latest again");
            }
        }
        ShardDescriptor lost = shards.get(shardId);
        Instant now = Instant.now();
        plane.atomically(() -> {
            for (ChunkRoute route : owned) {
                plane.publishRoute(ChunkRoute.newBuilder(route).setShardId(replacementId).setVersion(route.getVersion() + 1).setState(ChunkState.ACTIVE)
                    .setMigrationId(null).build());
                // The handover as an ended migration: restores, the verifier and the operator's listings see who owned the range when.
                plane.publishMigration(MigrationState.newBuilder().setMigrationId(UUID.randomUUID().toString()).setCommandId(command.getCommandId())
                    .setNamespace(route.getNamespace()).setChunkMin(route.getMin()).setChunkMax(route.getMax()).setSourceShardId(shardId)
                    .setTargetShardId(replacementId).setPhase(MigrationPhase.CLEANED).setWorkerId(plane.workerId()).setOwnerEpoch(plane.ownership().term())
                    .setCutOverAt(now).setStartedAt(now).setUpdatedAt(now).build());
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

    private static Map<String, Long> restoredOn(String connectionString, String shardId) {
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
