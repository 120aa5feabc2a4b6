package io.shardline.topology.balancer.policy;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

import io.shardline.core.routing.Zones;
import io.shardline.schemas.avro.ShardState;

/**
 * The whole cluster as the balancer sees it when a window closes, and as it stands after each decision of that window:
 * a decision makes its shards busy, counts as a migration in flight, and a merge starts draining its source. Immutable;
 * {@link #after(Decision)} gives the next one.
 *
 * @param now                when the window closed
 * @param shards             every registered shard, in the order of the shards table
 * @param busy               shards taking part in a migration, or in a decided command not yet ended or timed out
 * @param migrationsInFlight migrations and decided commands not yet ended, across the cluster
 * @param draining           shards merged away by a decision of this window (their descriptors still say ACTIVE)
 * @param zones              the zones shards belong to and the key ranges pinned to them: a chunk moves only within its zone
 */
public record ClusterSnapshot(long now, List<ShardView> shards, Set<String> busy, int migrationsInFlight, Set<String> draining, Zones zones) {

    public ClusterSnapshot {
        shards = List.copyOf(shards);
        busy = Set.copyOf(busy);
        draining = Set.copyOf(draining);
        Objects.requireNonNull(zones, "zones");
        if (migrationsInFlight < 0) {
            throw new IllegalArgumentException("migrationsInFlight must not be negative, was " + migrationsInFlight);
        }
    }

    /** A snapshot of a cluster without zones. */
    public ClusterSnapshot(long now, List<ShardView> shards, Set<String> busy, int migrationsInFlight, Set<String> draining) {
        this(now, shards, busy, migrationsInFlight, draining, Zones.of(List.of(), List.of()));
    }

    /** A snapshot before any decision of the window, without zones. */
    public static ClusterSnapshot of(long now, List<ShardView> shards, Set<String> busy, int migrationsInFlight) {
        return new ClusterSnapshot(now, shards, busy, migrationsInFlight, Set.of());
    }

    /** A snapshot before any decision of the window. */
    public static ClusterSnapshot of(long now, List<ShardView> shards, Set<String> busy, int migrationsInFlight, Zones zones) {
        return new ClusterSnapshot(now, shards, busy, migrationsInFlight, Set.of(), zones);
    }

    /** True when the chunk may move to the shard: it is in no zone, or the shard is one of its zone's. */
    public boolean allows(ChunkView chunk, ShardView shard) {
        return zones.allows(chunk.namespace(), chunk.route().getMin(), chunk.route().getMax(), shard.id());
    }

    /** ACTIVE and not merged away by this window. */
    public boolean active(ShardView shard) {
        return shard.state() == ShardState.ACTIVE && !draining.contains(shard.id());
    }

    /** Can take part in a decision: active, not busy, out of its cooldown. */
    public boolean free(ShardView shard) {
        return active(shard) && !busy.contains(shard.id()) && shard.cooldownUntilMillis() <= now;
    }

    public long activeShards() {
        return shards.stream().filter(this::active).count();
    }

    /** The cluster once {@code decision} is taken: its shards busy, one more migration in flight, a merge's source draining. */
    public ClusterSnapshot after(Decision decision) {
        Objects.requireNonNull(decision, "decision");
        if (!(decision instanceof Decision.Command command)) {
            return this;
        }
        Set<String> nowBusy = new HashSet<>(busy);
        nowBusy.add(command.source().id());
        nowBusy.add(command.target().id());
        Set<String> nowDraining = draining;
        if (decision instanceof Decision.Merge merge) {
            nowDraining = new HashSet<>(draining);
            nowDraining.add(merge.source().id());
        }
        return new ClusterSnapshot(now, shards, nowBusy, migrationsInFlight + 1, nowDraining, zones);
    }
}
