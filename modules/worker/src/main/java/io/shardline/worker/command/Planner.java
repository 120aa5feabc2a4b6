package io.shardline.worker.command;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.bson.BsonString;
import org.bson.RawBsonDocument;

import com.mongodb.client.model.Projections;
import com.mongodb.client.model.Sorts;

import io.shardline.schemas.MigrationPhases;
import io.shardline.controlplane.CommandRules;
import io.shardline.controlplane.CommandRules.Subject;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.LaneRequest;
import io.shardline.schemas.avro.LaneRequestKind;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.worker.data.RangeOps;
import io.shardline.worker.plane.ControlPlane;
import io.shardline.core.key.KeyHex;
import io.shardline.core.routing.Zones;
import io.shardline.worker.runner.Retirement;

/**
 * Turns checked commands into their effects: chunk moves persisted as PLANNED migrations (admitted to a migration lane
 * by {@link #admit} once their shards are free, see {@link Admission}), splits published on the routing, shards marked
 * DRAINING or registered; aborts and rollbacks sent to the lane of their migration. Every check is a rule of
 * {@link CommandRules} (shared with the CLI and the admin API) or, for what only a worker can see, one of its own; a
 * broken one is an {@link InvalidCommand} naming the command record's field.
 */
final class Planner {

    private static final Logger LOG = LoggerFactory.getLogger(Planner.class);

    private static final Map<Subject, String> MOVE = Map.of(Subject.NAMESPACE, "command.namespace", Subject.CHUNK, "command.chunkMin",
        Subject.SHARD, "command.targetShardId", Subject.TARGET, "command.targetShardId", Subject.SPLIT_KEY, "command.splitKey");

    private final ControlPlane plane;
    private final String workerId;
    /**
     * The lanes this term admitted migrations to, by migration id: the migrations table may not show an admission yet
     * when the next look comes (its transaction's markers are written after the commit returns), and a migration must
     * not be admitted twice. Kept for one term.
     */
    private final Map<String, Integer> admitted = new ConcurrentHashMap<>();
    private long admittedInTerm = -1;

    Planner(ControlPlane plane, String workerId) {
        this.plane = plane;
        this.workerId = workerId;
    }

    /** The migrations as this term knows them: the table, with this term's admissions it does not show yet laid over it. */
    private Map<String, MigrationState> migrations() {
        long term = plane.ownership().term();
        if (term != admittedInTerm) {
            admitted.clear();
            admittedInTerm = term;
        }
        Map<String, MigrationState> known = new HashMap<>(plane.migrations().values());
        admitted.keySet().removeIf(id -> known.get(id) == null || known.get(id).getLane() >= 0 || MigrationPhases.ended(known.get(id)));
        admitted.forEach((id, lane) -> known.computeIfPresent(id, (key, m) -> m.getLane() >= 0 || MigrationPhases.ended(m) ? m
            : MigrationState.newBuilder(m).setLane(lane).build()));
        return known;
    }

    /** The routing keys of the chunks that unfinished migrations hold or plan to move: chunks no new move may take. */
    Set<String> chunksMoving() {
        Set<String> moving = new java.util.HashSet<>();
        migrations().values().stream().filter(m -> !MigrationPhases.ended(m))
            .forEach(m -> moving.add(TopicCatalog.routingKey(m.getNamespace(), KeyHex.of(m.getChunkMin()))));
        return moving;
    }

    /**
     * Admits the waiting migrations whose shards are free to free lanes (see {@link Admission}): each admission is its
     * state with the lane and a RUN request on that lane's partition, in one transaction. Returns how many.
     */
    int admit(int lanes, int maxParallel) {
        List<Admission.Admitted> next = Admission.next(migrations().values(), lanes, maxParallel);
        for (Admission.Admitted admission : next) {
            MigrationState state = MigrationState.newBuilder(admission.migration()).setLane(admission.lane()).setWorkerId(workerId)
                .setOwnerEpoch(plane.ownership().term()).setUpdatedAt(Instant.now()).build();
            plane.atomically(() -> {
                plane.publishMigration(state);
                plane.requestOfLane(admission.lane(), laneRequest(state, LaneRequestKind.RUN));
            });
            admitted.put(state.getMigrationId(), admission.lane());
            LOG.info("migration {} ({} -> {}) admitted to lane {}", state.getMigrationId(), state.getSourceShardId(), state.getTargetShardId(),
                admission.lane());
        }
        return next.size();
    }

    private static LaneRequest laneRequest(MigrationState state, LaneRequestKind kind) {
        return LaneRequest.newBuilder().setMigrationId(state.getMigrationId()).setKind(kind).build();
    }

    private ChunkRoute chunk(String namespace, String minHex) {
        ChunkRoute route = plane.routing().get(TopicCatalog.routingKey(namespace, minHex));
        if (route == null) {
            throw new InvalidCommand("command.chunkMin", "no chunk of " + namespace + " starts at " + CommandRules.name(minHex));
        }
        return route;
    }

    private ShardDescriptor activeShard(String shardId, String field) {
        return InvalidCommand.checked(Map.of(Subject.SHARD, field), () -> CommandRules.activeShard(plane.shards().values(), Subject.SHARD, shardId));
    }

    private static void owner(ChunkRoute route, String expectedOwner) {
        if (expectedOwner != null && !expectedOwner.equals(route.getShardId())) {
            throw new InvalidCommand("command.shardId", "the chunk " + CommandRules.name(KeyHex.of(route.getMin())) + " of " + route.getNamespace()
                + " is owned by " + route.getShardId() + ", not " + expectedOwner);
        }
    }

    /** Checks a chunk move and persists it as PLANNED. */
    void move(ShardCommand command, String namespace, String minHex, String targetShardId, String expectedOwner) {
        ChunkRoute route = chunk(namespace, minHex);
        owner(route, expectedOwner);
        String migrationId = UUID.nameUUIDFromBytes((command.getCommandId() + "|" + namespace + "|" + minHex).getBytes()).toString();
        InvalidCommand.checked(MOVE, () -> {
            CommandRules.idle(route, migrations().values().stream().filter(m -> !m.getMigrationId().equals(migrationId)).toList());
            CommandRules.activeShard(plane.shards().values(), Subject.SHARD, targetShardId);
            CommandRules.elsewhere(route, targetShardId);
            CommandRules.inZone(zones(), route, targetShardId);
        });
        Instant now = Instant.now();
        MigrationState planned = MigrationState.newBuilder().setMigrationId(migrationId).setCommandId(command.getCommandId())
            .setNamespace(namespace).setChunkMin(route.getMin()).setChunkMax(route.getMax()).setSourceShardId(route.getShardId())
            .setTargetShardId(targetShardId).setPhase(MigrationPhase.PLANNED).setWorkerId(workerId).setOwnerEpoch(plane.ownership().term())
            .setStartedAt(now).setUpdatedAt(now).build();
        plane.publishMigration(planned);
        plane.event(ShardEventType.MIGRATION_STARTED, route.getShardId(), namespace, migrationId, command.getCommandId(), command.getIssuer(),
            "move [" + minHex + ", " + (route.getMax() == null ? "+inf" : KeyHex.of(route.getMax())) + ") of " + namespace + " from "
                + route.getShardId() + " to " + targetShardId, Map.of());
    }

    /** Metadata only: one chunk becomes two on the same shard, both halves in one transaction. Returns the upper chunk's min. */
    String split(ShardCommand command, String namespace, String minHex, String splitHex, boolean byLoad, String expectedOwner) {
        ChunkRoute route = chunk(namespace, minHex);
        String maxHex = KeyHex.of(route.getMax());
        owner(route, expectedOwner);
        if (maxHex != null && maxHex.equals(splitHex)) {
            ChunkRoute upper = plane.routing().get(TopicCatalog.routingKey(namespace, splitHex));
            if (upper != null && upper.getShardId().equals(route.getShardId())) {
                return splitHex; // split before: a repeated command
            }
        }
        InvalidCommand.checked(MOVE, () -> {
            CommandRules.inside(route, splitHex);
            CommandRules.idle(route, plane.migrations().values().values());
        });
        Instant splitAt = byLoad ? Instant.now() : route.getSplitByLoadAt();
        // Each half is checked against the routing it was derived from; a split that lost a race with a migration step
        // throws, and the command is retried against the routing as it is then.
        plane.atomically(() -> {
            plane.publishRoute(ChunkRoute.newBuilder(route).setMin(KeyHex.bytes(splitHex)).setVersion(route.getVersion() + 1).setSplitByLoadAt(splitAt).build());
            plane.publishRoute(ChunkRoute.newBuilder(route).setMax(KeyHex.bytes(splitHex)).setVersion(route.getVersion() + 1).setSplitByLoadAt(splitAt).build());
        });
        plane.event(ShardEventType.ROUTING_CHANGED, route.getShardId(), namespace, null, command.getCommandId(), command.getIssuer(),
            "split [" + minHex + ", " + (maxHex == null ? "+inf" : maxHex) + ") at " + splitHex + (byLoad ? " (by load)" : ""), Map.of());
        return splitHex;
    }

    /** Splits a chunk (at its median unless a key is given) and moves the upper half (to the least used shard unless named). */
    void splitAndMove(ShardCommand command, String shardId, String namespace, String minHex, String splitHex, String targetShardId, boolean byLoad) {
        activeShard(shardId, "command.shardId");
        ChunkRoute route = chunk(namespace, minHex);
        String at = splitHex == null ? medianKey(route) : splitHex;
        ChunkRoute upperHalf = ChunkRoute.newBuilder(route).setMin(KeyHex.bytes(at)).build();
        Zones zones = zones();
        String target = targetShardId == null ? leastUsedShard(List.of(shardId), allowed(zones, upperHalf)) : targetShardId;
        activeShard(target, "command.targetShardId");
        InvalidCommand.checked(MOVE, () -> CommandRules.inZone(zones, upperHalf, target));
        String upper = split(command, namespace, minHex, at, byLoad, shardId);
        move(command, namespace, upper, target, shardId);
    }

    /** The median stored key of a chunk on its shard, read from the shard itself. */
    private String medianKey(ChunkRoute route) {
        var collection = plane.shardConnections().collection(route.getShardId(), route.getNamespace());
        RangeOps ops = new RangeOps(collection, collection, KeyHex.of(route.getMin()), KeyHex.of(route.getMax()));
        long count = ops.count();
        RawBsonDocument median = collection.find(ops.rangeFilter())
            .projection(Projections.include(RangeOps.KEY_FIELD)).sort(Sorts.ascending(RangeOps.KEY_FIELD)).skip((int) (count / 2)).first();
        if (median == null || !(median.get(RangeOps.KEY_FIELD) instanceof BsonString key) || key.getValue().equals(KeyHex.of(route.getMin()))) {
            throw new InvalidCommand("command.splitKey", "none given, and the chunk holds no key to split at");
        }
        return key.getValue();
    }

    /** The zones as the shards and configs give them now. */
    Zones zones() {
        return Zones.of(plane.shards().values().values(), plane.configs().values().values());
    }

    /** The shards a chunk may live on: its zone's, or null (any) when it is in no zone. */
    static Set<String> allowed(Zones zones, ChunkRoute route) {
        return zones.allowed(route.getNamespace(), route.getMin(), route.getMax());
    }

    /** The ACTIVE shard holding the fewest chunks, among {@code allowed} (null: any) but not {@code excluded}. */
    String leastUsedShard(List<String> excluded, Set<String> allowed) {
        Map<String, Integer> chunks = new HashMap<>();
        plane.shards().values().values().stream().filter(s -> s.getState() == ShardState.ACTIVE && !excluded.contains(s.getShardId())
                && (allowed == null || allowed.contains(s.getShardId())))
            .forEach(s -> chunks.put(s.getShardId(), 0));
        plane.routing().values().values().forEach(r -> chunks.computeIfPresent(r.getShardId(), (id, n) -> n + 1));
        return chunks.entrySet().stream().min(Map.Entry.<String, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
            .map(Map.Entry::getKey).orElseThrow(() -> new InvalidCommand("command.targetShardId", "no other ACTIVE shard to move to"
                + (allowed == null ? "" : " in the chunk's zone (its shards: " + allowed + ")")));
    }

    private List<ChunkRoute> chunksOf(String shardId) {
        return plane.routing().values().values().stream().filter(r -> r.getShardId().equals(shardId))
            .sorted(Comparator.comparing(ChunkRoute::getNamespace).thenComparing(r -> KeyHex.of(r.getMin()))).toList();
    }

    void accepted(ShardCommand command, String shardId, String namespace, String what) {
        plane.event(ShardEventType.COMMAND_ACCEPTED, shardId, namespace, null, command.getCommandId(), command.getIssuer(), what, Map.of());
    }

    /** Moves every chunk of a shard to another ({@code targetShardId}) or each to the least used one (null); the shard is DRAINING, then RETIRED. */
    void drain(ShardCommand command, String shardId, String shardField, String targetShardId) {
        ShardDescriptor shard = activeShard(shardId, shardField);
        if (targetShardId != null) {
            activeShard(targetShardId, "command.targetShardId");
            InvalidCommand.checked(Map.of(Subject.TARGET, "command.targetShardId"), () -> CommandRules.distinct(shardId, targetShardId));
        }
        List<ChunkRoute> chunks = chunksOf(shardId);
        // A chunk pinned to a zone goes to a shard of its zone: the merge's target when it is one, else the zone's least
        // used; a zone left without another shard refuses the drain before anything is published.
        Zones zones = zones();
        for (ChunkRoute route : chunks) {
            Set<String> allowed = allowed(zones, route);
            if (allowed != null && (targetShardId == null || !allowed.contains(targetShardId))) {
                try {
                    leastUsedShard(List.of(shardId), allowed);
                } catch (InvalidCommand noShard) {
                    throw new InvalidCommand(shardField, shardId + " holds the chunk " + CommandRules.name(KeyHex.of(route.getMin())) + " of "
                        + route.getNamespace() + ", whose zone has no other ACTIVE shard (" + allowed + "): it cannot be emptied");
                }
            }
        }
        plane.publishShard(ShardDescriptor.newBuilder(shard).setState(ShardState.DRAINING).setVersion(shard.getVersion() + 1)
            .setUpdatedAt(Instant.now()).build());
        accepted(command, shardId, null, targetShardId == null ? "draining " + chunks.size() + " chunks off " + shardId
            : "merging " + shardId + " into " + targetShardId);
        for (ChunkRoute route : chunks) {
            Set<String> allowed = allowed(zones, route);
            String target = targetShardId != null && (allowed == null || allowed.contains(targetShardId)) ? targetShardId
                : leastUsedShard(List.of(shardId), allowed);
            move(command, route.getNamespace(), KeyHex.of(route.getMin()), target, null);
        }
        Retirement.retireIfEmpty(plane, shardId, null);
    }

    /**
     * Plans moves from the shard with the most idle chunks of a namespace (or all) to the one with the fewest, until they
     * differ by one, zone by zone: the chunks pinned to a zone among that zone's shards, the others among every ACTIVE
     * shard. Returns the moves' shard pairs in the order planned (they run in rounds of disjoint pairs).
     */
    List<List<String>> rebalance(ShardCommand command, String namespace) {
        Set<String> busy = chunksMoving();
        Zones zones = zones();
        List<String> active = plane.shards().values().values().stream().filter(s -> s.getState() == ShardState.ACTIVE)
            .map(ShardDescriptor::getShardId).toList();
        Map<String, List<ChunkRoute>> byZone = new java.util.TreeMap<>();
        plane.routing().values().values().stream()
            .filter(r -> (namespace == null || namespace.equals(r.getNamespace())) && r.getState() == ChunkState.ACTIVE && r.getMigrationId() == null
                && !busy.contains(TopicCatalog.routingKey(r.getNamespace(), KeyHex.of(r.getMin()))))
            .forEach(r -> {
                String zone = zones.zoneOf(r.getNamespace(), r.getMin(), r.getMax());
                byZone.computeIfAbsent(zone == null ? "" : zone, z -> new ArrayList<>()).add(r);
            });
        List<List<String>> moves = new ArrayList<>();
        byZone.forEach((zone, chunks) -> {
            Map<String, List<ChunkRoute>> byShard = new HashMap<>();
            (zone.isEmpty() ? active : List.copyOf(zones.shardsOf(zone))).forEach(id -> byShard.put(id, new ArrayList<>()));
            chunks.forEach(r -> byShard.computeIfPresent(r.getShardId(), (id, list) -> {
                list.add(r);
                return list;
            }));
            while (byShard.size() > 1) {
                var most = byShard.entrySet().stream().max(Comparator.comparingInt(e -> e.getValue().size())).orElseThrow();
                var least = byShard.entrySet().stream().min(Comparator.comparingInt(e -> e.getValue().size())).orElseThrow();
                if (most.getValue().size() - least.getValue().size() <= 1) {
                    break;
                }
                ChunkRoute moving = most.getValue().remove(most.getValue().size() - 1);
                least.getValue().add(moving);
                move(command, moving.getNamespace(), KeyHex.of(moving.getMin()), least.getKey(), null);
                moves.add(List.of(most.getKey(), least.getKey()));
            }
        });
        return moves;
    }

    void addShard(ShardCommand command, ShardDescriptor shard) {
        InvalidCommand.checked(Map.of(Subject.SHARD, "command.shard.shardId"), () -> CommandRules.unregistered(plane.shards().values(), shard.getShardId()));
        plane.publishShard(shard);
        plane.event(ShardEventType.SHARD_REGISTERED, shard.getShardId(), null, null, command.getCommandId(), command.getIssuer(),
            "shard " + shard.getShardId() + " registered at " + shard.getConnectionString(), Map.of());
    }

    /**
     * An abort or rollback of an unfinished migration; returns it. One still waiting for a lane has touched nothing and
     * ends here; an admitted one is sent the request on its lane, whose worker carries it out.
     */
    MigrationState request(String commandId, String migrationId, boolean abort) {
        Map<String, MigrationState> known = migrations();
        MigrationState migration = InvalidCommand.checked(Map.of(Subject.MIGRATION, "command.migrationId"), () -> {
            MigrationState state = CommandRules.unfinished(known, migrationId);
            if (abort) {
                CommandRules.abortable(state);
            }
            return state;
        });
        if (migration.getLane() >= 0) {
            plane.requestOfLane(migration.getLane(), laneRequest(migration, abort ? LaneRequestKind.ABORT : LaneRequestKind.ROLLBACK));
            return migration;
        }
        if (migration.getPhase() != MigrationPhase.PLANNED) {
            // Under way without a lane (carried out before lanes existed): the request rides on its state until a lane takes it.
            plane.publishMigration(MigrationState.newBuilder(migration).setAbortRequested(migration.getAbortRequested() || abort)
                .setRollbackRequested(migration.getRollbackRequested() || !abort).setUpdatedAt(Instant.now()).build());
            return migration;
        }
        MigrationPhase end = abort ? MigrationPhase.ABORTED : MigrationPhase.ROLLED_BACK;
        String why = (abort ? "aborted" : "rolled back") + " on request before it started: nothing was copied";
        MigrationState ended = MigrationState.newBuilder(migration).setPhase(end).setAbortRequested(abort).setRollbackRequested(!abort)
            .setError(why).setWorkerId(workerId).setOwnerEpoch(plane.ownership().term()).setUpdatedAt(Instant.now()).build();
        plane.atomically(() -> {
            plane.publishMigration(ended);
            plane.event(abort ? ShardEventType.MIGRATION_FAILED : ShardEventType.MIGRATION_STATE_CHANGED, migration.getSourceShardId(),
                migration.getNamespace(), migrationId, commandId, null, "PLANNED -> " + end + ": " + why, Map.of());
        });
        return migration;
    }
}
