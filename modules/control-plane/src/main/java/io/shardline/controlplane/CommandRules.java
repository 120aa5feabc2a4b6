package io.shardline.controlplane;

import java.util.Collection;
import java.util.List;
import java.util.Map;

import io.shardline.core.key.KeyHex;
import io.shardline.core.routing.Zones;
import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardHealth;
import io.shardline.schemas.avro.ShardState;

/**
 * The rules a shard command must meet against the control plane's tables, in one place: the CLI and the admin API
 * check them before publishing ({@link CommandPlanner}), the worker again when it carries a command out. A broken rule
 * is a {@link Violation} naming what it is about ({@link Subject}); each caller names that as its users know it (an
 * option, a request field, a command record's field).
 */
public final class CommandRules {

    /** What a broken rule is about. */
    public enum Subject {
        NAMESPACE, CHUNK, SPLIT_KEY, SHARD, TARGET, MIGRATION, ZONE, RANGE
    }

    /** A broken rule: what it is about, and why. */
    public static final class Violation extends IllegalArgumentException {
        private final Subject subject;

        public Violation(Subject subject, String problem) {
            super(problem);
            this.subject = subject;
        }

        public Subject subject() {
            return subject;
        }
    }

    private CommandRules() {
    }

    /** The chunk of a namespace starting at {@code minHex} ({@code ""} for the first), among the namespace's routes. */
    public static ChunkRoute chunk(List<ChunkRoute> routesOfNamespace, String namespace, String minHex) {
        if (routesOfNamespace.isEmpty()) {
            throw new Violation(Subject.NAMESPACE, "no routing for namespace " + namespace);
        }
        return routesOfNamespace.stream().filter(route -> KeyHex.of(route.getMin()).equals(minHex)).findFirst()
            .orElseThrow(() -> new Violation(Subject.CHUNK, "no chunk of " + namespace + " starts at " + name(minHex)
                + " (see the routing of " + namespace + ")"));
    }

    /**
     * The chunk, unless a migration holds it: marked in the routing, or planned by a migration that has not ended (the
     * route is marked only once a worker takes the migration up).
     */
    public static ChunkRoute idle(ChunkRoute route, Collection<MigrationState> migrations) {
        String min = KeyHex.of(route.getMin());
        if (route.getState() != ChunkState.ACTIVE || route.getMigrationId() != null) {
            throw new Violation(Subject.CHUNK, "the chunk " + name(min) + " of " + route.getNamespace() + " is migrating ("
                + route.getState() + ", migration " + route.getMigrationId() + "); try again once that migration has ended");
        }
        migrations.stream()
            .filter(m -> !MigrationPhases.ended(m) && m.getNamespace().equals(route.getNamespace()) && KeyHex.of(m.getChunkMin()).equals(min))
            .findFirst().ifPresent(planned -> {
                throw new Violation(Subject.CHUNK, "the chunk " + name(min) + " of " + route.getNamespace() + " is migrating (planned, "
                    + planned.getPhase() + ", migration " + planned.getMigrationId() + "); try again once that migration has ended");
            });
        return route;
    }

    /** A registered shard in state ACTIVE. */
    public static ShardDescriptor activeShard(Map<String, ShardDescriptor> shards, Subject subject, String shardId) {
        ShardDescriptor shard = shardId == null ? null : shards.get(shardId);
        if (shard == null) {
            throw new Violation(subject, "no shard " + shardId + " is registered (known: " + new java.util.TreeSet<>(shards.keySet()) + ")");
        }
        if (shard.getState() != ShardState.ACTIVE) {
            throw new Violation(subject, "shard " + shardId + " is " + shard.getState() + ", not ACTIVE");
        }
        return shard;
    }

    /**
     * A shard that may be given a standby at {@code uri}: registered, not RETIRED, not DOWN (the standby is seeded from
     * it), without one already; the standby a {@code mongodb://} URI other than the shard's own.
     */
    public static ShardDescriptor standbyAddable(Map<String, ShardDescriptor> shards, String shardId, String uri) {
        ShardDescriptor shard = shardId == null ? null : shards.get(shardId);
        if (shard == null || shard.getState() == ShardState.RETIRED) {
            throw new Violation(Subject.SHARD, shard == null ? "no shard " + shardId + " is registered (known: " + new java.util.TreeSet<>(shards.keySet()) + ")"
                : "shard " + shardId + " is RETIRED");
        }
        if (shard.getHealth() == ShardHealth.DOWN) {
            throw new Violation(Subject.SHARD, "shard " + shardId + " is DOWN: a standby is seeded from the shard itself");
        }
        if (shard.getStandbyConnectionString() != null) {
            throw new Violation(Subject.SHARD, "shard " + shardId + " has a standby already: " + shard.getStandbyConnectionString());
        }
        if (uri == null || !(uri.startsWith("mongodb://") || uri.startsWith("mongodb+srv://"))) {
            throw new Violation(Subject.TARGET, "'" + uri + "' is not a mongodb:// or mongodb+srv:// URI");
        }
        if (uri.equals(shard.getConnectionString())) {
            throw new Violation(Subject.TARGET, "the standby of " + shardId + " cannot be the shard itself");
        }
        for (ShardDescriptor other : shards.values()) {
            if (other.getState() != ShardState.RETIRED && (uri.equals(other.getConnectionString()) || uri.equals(other.getStandbyConnectionString()))) {
                throw new Violation(Subject.TARGET, uri + " is in use by shard " + other.getShardId() + "; a standby is a server of its own");
            }
        }
        return shard;
    }

    /** A move's target is not where the chunk is. */
    public static void elsewhere(ChunkRoute route, String targetShardId) {
        if (targetShardId.equals(route.getShardId())) {
            throw new Violation(Subject.TARGET, "the chunk is on " + targetShardId + " already");
        }
    }

    /** A split key strictly inside the chunk. */
    public static void inside(ChunkRoute route, String splitHex) {
        String min = KeyHex.of(route.getMin());
        String max = KeyHex.of(route.getMax());
        if (splitHex == null || splitHex.compareTo(min) <= 0 || (max != null && splitHex.compareTo(max) >= 0)) {
            throw new Violation(Subject.SPLIT_KEY, "key " + splitHex + " is not inside the chunk [" + min + ", " + (max == null ? "+inf" : max) + ")");
        }
    }

    /** A merge moves one shard's chunks to another. */
    public static void distinct(String from, String into) {
        if (from.equals(into)) {
            throw new Violation(Subject.TARGET, "a shard cannot be merged into itself");
        }
    }

    /** A migration that exists and has not ended. */
    public static MigrationState unfinished(Map<String, MigrationState> migrations, String migrationId) {
        MigrationState state = migrations.get(migrationId);
        if (state == null) {
            throw new Violation(Subject.MIGRATION, "no migration " + migrationId);
        }
        if (MigrationPhases.ended(state)) {
            throw new Violation(Subject.MIGRATION, "migration " + migrationId + " has ended (" + state.getPhase() + ")");
        }
        return state;
    }

    /** A chunk pinned to a zone moves only to an ACTIVE shard of that zone (of every zone it overlaps, if several). */
    public static void inZone(Zones zones, ChunkRoute route, String targetShardId) {
        java.util.Set<String> allowed = zones.allowed(route.getNamespace(), route.getMin(), route.getMax());
        if (allowed != null && !allowed.contains(targetShardId)) {
            String zone = zones.zoneOf(route.getNamespace(), route.getMin(), route.getMax());
            throw new Violation(Subject.TARGET, targetShardId + " is not an ACTIVE shard of zone " + (zone == null ? "" : zone + ", ")
                + "to which the chunk " + name(KeyHex.of(route.getMin())) + " of " + route.getNamespace() + " is pinned (the shards it may move to: "
                + allowed + ")");
        }
    }

    /**
     * A key range pinned to a zone: the zone has an ACTIVE shard, the range is not empty, and it overlaps no range pinned
     * to another zone (the same range pinned again moves it to the new zone).
     */
    public static void pinnable(Zones zones, String namespace, String zone, String minHex, String maxHex) {
        if (zones.shardsOf(zone).isEmpty()) {
            throw new Violation(Subject.ZONE, "zone " + zone + " has no ACTIVE shard; add one to it first");
        }
        if (maxHex != null && minHex.compareTo(maxHex) >= 0) {
            throw new Violation(Subject.RANGE, "the range [" + name(minHex) + ", " + maxHex + ") of " + namespace + " is empty");
        }
        for (io.shardline.schemas.avro.ZoneRange range : zones.ranges(namespace)) {
            String min = KeyHex.of(range.getMin());
            String max = KeyHex.of(range.getMax());
            boolean same = min.equals(minHex) && java.util.Objects.equals(max, maxHex);
            if (!same && Zones.overlap(min, max, minHex, maxHex)) {
                throw new Violation(Subject.RANGE, "the range overlaps [" + name(min) + ", " + (max == null ? "+inf" : max) + ") of " + namespace
                    + ", pinned to zone " + range.getZone() + (range.getTenant() == null ? "" : " (tenant " + range.getTenant() + ")"));
            }
        }
    }

    /** A range to unpin is one pinned: by its exact bounds. */
    public static io.shardline.schemas.avro.ZoneRange pinned(Zones zones, String namespace, String minHex, String maxHex) {
        return zones.ranges(namespace).stream().filter(r -> KeyHex.of(r.getMin()).equals(minHex) && java.util.Objects.equals(KeyHex.of(r.getMax()), maxHex))
            .findFirst().orElseThrow(() -> new Violation(Subject.RANGE, "no range [" + name(minHex) + ", " + (maxHex == null ? "+inf" : maxHex) + ") of "
                + namespace + " is pinned to a zone"));
    }

    /** An abort comes too late once the migration cut over: a rollback returns the range instead. */
    public static void abortable(MigrationState state) {
        if (state.getPhase() == MigrationPhase.CUT_OVER) {
            throw new Violation(Subject.MIGRATION, "migration " + state.getMigrationId() + " has cut over; roll it back instead");
        }
    }

    /** A shard to register: an id not taken yet. */
    public static void unregistered(Map<String, ShardDescriptor> shards, String shardId) {
        if (shardId == null || shardId.isBlank()) {
            throw new Violation(Subject.SHARD, "the shard id must not be blank");
        }
        if (shards.containsKey(shardId)) {
            throw new Violation(Subject.SHARD, "shard " + shardId + " is registered already");
        }
    }

    /**
     * A shard another can replace: registered and not retired, the replacement registered, ACTIVE and owning no chunk,
     * and no unfinished migration on either.
     */
    public static void replaceable(Map<String, ShardDescriptor> shards, Collection<ChunkRoute> routes, Collection<MigrationState> migrations,
                                   String shardId, String replacementId) {
        ShardDescriptor lost = shards.get(shardId);
        if (lost == null || lost.getState() == ShardState.RETIRED) {
            throw new Violation(Subject.SHARD, lost == null ? "no shard " + shardId : "shard " + shardId + " is retired");
        }
        activeShard(shards, Subject.TARGET, replacementId);
        if (shardId.equals(replacementId)) {
            throw new Violation(Subject.TARGET, "a shard cannot replace itself");
        }
        routes.stream().filter(route -> route.getShardId().equals(replacementId)).findFirst().ifPresent(route -> {
            throw new Violation(Subject.TARGET, "shard " + replacementId + " owns chunk " + name(KeyHex.of(route.getMin())) + " of " + route.getNamespace()
                + "; a replacement starts empty");
        });
        migrations.stream().filter(m -> !MigrationPhases.ended(m))
            .filter(m -> java.util.Set.of(shardId, replacementId).contains(m.getSourceShardId()) || java.util.Set.of(shardId, replacementId).contains(m.getTargetShardId()))
            .findFirst().ifPresent(m -> {
                throw new Violation(Subject.MIGRATION, "migration " + m.getMigrationId() + " (" + m.getSourceShardId() + " -> " + m.getTargetShardId()
                    + ") has not ended; abort it or let it end first");
            });
    }

    /** A chunk as operators name it: its min key in hex, {@code min} for the first. */
    public static String name(String minHex) {
        return minHex == null || minHex.isEmpty() ? "min" : minHex;
    }
}
