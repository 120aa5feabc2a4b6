package io.shardline.topology.balancer.policy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * One window's decisions over a {@link ClusterSnapshot}: splits first, the most severely overloaded shard first, then
 * merges, the least used idle shard first; each decision taken makes its shards busy for the ones after it, and none is
 * taken once the global cap on migrations in flight is reached.
 */
public final class Planner {

    private final int maxConcurrentMigrations;
    private final SplitPolicy split;
    private final MergePolicy merge;

    public Planner(int maxConcurrentMigrations, SplitPolicy split, MergePolicy merge) {
        if (maxConcurrentMigrations < 1) {
            throw new IllegalArgumentException("maxConcurrentMigrations must be at least 1, was " + maxConcurrentMigrations);
        }
        this.maxConcurrentMigrations = maxConcurrentMigrations;
        this.split = split;
        this.merge = merge;
    }

    /** The window's decisions, in the order they are to be published. */
    public List<Decision> plan(ClusterSnapshot cluster) {
        List<Decision> decisions = new ArrayList<>();
        List<ShardView> overloaded = cluster.shards().stream()
            .filter(ShardView::sustainedOverSplit)
            .sorted(Comparator.comparingDouble(ShardView::severity).reversed())
            .toList();
        for (ShardView shard : overloaded) {
            if (cluster.migrationsInFlight() >= maxConcurrentMigrations) {
                break;
            }
            for (Decision decision : split.decide(shard, cluster)) {
                decisions.add(decision);
                cluster = cluster.after(decision);
            }
        }
        List<ShardView> idle = cluster.shards().stream()
            .filter(shard -> shard.sustainedUnderMerge() && !shard.chunks().isEmpty())
            .sorted(Comparator.comparingDouble(ShardView::utilization))
            .toList();
        for (ShardView shard : idle) {
            if (cluster.migrationsInFlight() >= maxConcurrentMigrations) {
                break;
            }
            Optional<Decision.Merge> decided = merge.decide(shard, cluster);
            if (decided.isPresent()) {
                decisions.add(decided.get());
                cluster = cluster.after(decided.get());
            }
        }
        return decisions;
    }
}
