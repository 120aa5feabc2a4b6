package io.shardline.worker.command;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.controlplane.CommandRules;
import io.shardline.controlplane.CommandRules.Subject;
import io.shardline.core.key.KeyHex;
import io.shardline.core.routing.Zones;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ZoneKeyRange;
import io.shardline.schemas.avro.ZoneRange;
import io.shardline.schemas.avro.ZoneShard;
import io.shardline.worker.plane.ControlPlane;

/**
 * Zones, carried out by the holder of the commands: a shard added to or removed from a zone (a new version of its
 * descriptor), a key range pinned to a zone or unpinned (a new version of the namespace's config), and the keeping of
 * every chunk inside its zone ({@link #enforce}): a chunk that straddles a zone boundary is split there, and a chunk
 * on a shard outside its zone is moved to the least used shard of its zone. Enforcement runs after each zone command
 * and every {@link CommandLoop#ENFORCE_ZONES_EVERY}, so chunks also come back after a shard leaves a zone.
 */
final class ZoneKeeper {

    private static final Logger LOG = LoggerFactory.getLogger(ZoneKeeper.class);

    private final ControlPlane plane;
    private final Planner planner;
    private final String workerId;

    ZoneKeeper(ControlPlane plane, Planner planner, String workerId) {
        this.plane = plane;
        this.planner = planner;
        this.workerId = workerId;
    }

    void zoneShard(ShardCommand command, ZoneShard change) {
        ShardDescriptor shard = InvalidCommand.checked(Map.of(Subject.SHARD, "command.shardId"),
            () -> CommandRules.activeShard(plane.shards().values(), Subject.SHARD, change.getShardId()));
        Set<String> zones = new TreeSet<>(shard.getZones());
        boolean changed = change.getRemove() ? zones.remove(change.getZone()) : zones.add(change.getZone());
        if (!changed) {
            planner.accepted(command, shard.getShardId(), null, shard.getShardId() + (change.getRemove() ? " is in no zone " : " is in zone ")
                + change.getZone() + " already");
            return;
        }
        if (change.getRemove()) {
            Zones now = planner.zones();
            boolean pinned = now.namespaces().stream().flatMap(ns -> now.ranges(ns).stream()).anyMatch(r -> r.getZone().equals(change.getZone()));
            if (pinned && now.shardsOf(change.getZone()).equals(Set.of(shard.getShardId()))) {
                throw new InvalidCommand("command.zone", "zone " + change.getZone() + " would be left without a shard while key ranges are "
                    + "pinned to it; unpin them or add another shard first");
            }
        }
        plane.publishShard(ShardDescriptor.newBuilder(shard).setZones(new ArrayList<>(zones)).setVersion(shard.getVersion() + 1)
            .setUpdatedAt(Instant.now()).build());
        planner.accepted(command, shard.getShardId(), null, (change.getRemove() ? shard.getShardId() + " left zone " : shard.getShardId()
            + " joined zone ") + change.getZone());
    }

    void zoneRange(ShardCommand command, ZoneKeyRange change) {
        NamespaceConfig config = plane.configs().get(change.getNamespace());
        if (config == null) {
            throw new InvalidCommand("command.namespace", "no namespace " + change.getNamespace() + " is configured");
        }
        String minHex = KeyHex.of(change.getMin());
        String maxHex = KeyHex.of(change.getMax());
        Zones zones = planner.zones();
        List<ZoneRange> ranges = new ArrayList<>(config.getZones());
        String field = change.getTenant() == null ? "command.min" : "command.tenant";
        InvalidCommand.checked(Map.of(Subject.ZONE, "command.zone", Subject.RANGE, field), () -> {
            if (change.getZone() == null) {
                ranges.remove(CommandRules.pinned(zones, change.getNamespace(), minHex, maxHex));
            } else {
                CommandRules.pinnable(zones, change.getNamespace(), change.getZone(), minHex, maxHex);
                ranges.removeIf(r -> KeyHex.of(r.getMin()).equals(minHex) && Objects.equals(KeyHex.of(r.getMax()), maxHex));
                ranges.add(ZoneRange.newBuilder().setZone(change.getZone()).setMin(change.getMin()).setMax(change.getMax())
                    .setTenant(change.getTenant()).build());
            }
            return null;
        });
        plane.publishConfig(NamespaceConfig.newBuilder(config).setZones(ranges).setVersion(config.getVersion() + 1).build());
        String what = "[" + CommandRules.name(minHex) + ", " + (maxHex == null ? "+inf" : maxHex) + ") of " + change.getNamespace()
            + (change.getTenant() == null ? "" : " (tenant " + change.getTenant() + ")");
        planner.accepted(command, null, change.getNamespace(), change.getZone() == null ? what + " unpinned" : what + " pinned to zone " + change.getZone());
    }

    /**
     * Puts every chunk back inside its zone: one split at a zone boundary, or one move into the zone, per chunk and
     * look; chunks that a migration holds or plans are left for a later look. Returns how many changes were made.
     */
    int enforce() {
        Zones zones = planner.zones();
        if (!zones.any()) {
            return 0;
        }
        Set<String> moving = planner.chunksMoving();
        int changes = 0;
        for (ChunkRoute route : List.copyOf(plane.routing().values().values())) {
            if (!zones.namespaces().contains(route.getNamespace()) || route.getState() != ChunkState.ACTIVE || route.getMigrationId() != null
                || moving.contains(TopicCatalog.routingKey(route.getNamespace(), KeyHex.of(route.getMin())))) {
                continue;
            }
            try {
                changes += keepInside(zones, route);
            } catch (InvalidCommand | IllegalStateException refused) {
                LOG.warn("chunk {} of {} is outside its zone and stays for now: {}", CommandRules.name(KeyHex.of(route.getMin())),
                    route.getNamespace(), refused.getMessage());
            }
        }
        return changes;
    }

    private int keepInside(Zones zones, ChunkRoute route) {
        String minHex = KeyHex.of(route.getMin());
        List<String> bounds = zones.boundariesInside(route.getNamespace(), route.getMin(), route.getMax());
        if (!bounds.isEmpty()) {
            ShardCommand command = command("split at the zone boundary " + bounds.get(0), io.shardline.schemas.avro.SplitChunk.newBuilder()
                .setNamespace(route.getNamespace()).setChunkMin(route.getMin()).setSplitKey(KeyHex.bytes(bounds.get(0))).build());
            planner.split(command, route.getNamespace(), minHex, bounds.get(0), false, route.getShardId());
            return 1;
        }
        String zone = zones.zoneOf(route.getNamespace(), route.getMin(), route.getMax());
        if (zone == null || zones.shardsOf(zone).contains(route.getShardId())) {
            return 0;
        }
        String target = planner.leastUsedShard(List.of(route.getShardId()), zones.shardsOf(zone));
        ShardCommand command = command("move back into zone " + zone, io.shardline.schemas.avro.MoveChunk.newBuilder()
            .setNamespace(route.getNamespace()).setChunkMin(route.getMin()).setTargetShardId(target).build());
        planner.move(command, route.getNamespace(), minHex, target, route.getShardId());
        planner.accepted(command, target, route.getNamespace(), "chunk " + CommandRules.name(minHex) + " of " + route.getNamespace() + " is on "
            + route.getShardId() + ", outside zone " + zone + ": moving it to " + target);
        return 1;
    }

    /** The command the holder of the commands gives itself for a change it makes to keep a zone. */
    private ShardCommand command(String reason, Object body) {
        return ShardCommand.newBuilder().setCommandId("zone-" + UUID.randomUUID()).setIssuer("worker:" + workerId).setTimestamp(Instant.now())
            .setReason(reason).setCommand(body).build();
    }
}
