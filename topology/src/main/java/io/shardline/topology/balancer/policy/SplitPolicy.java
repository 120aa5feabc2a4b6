package io.shardline.topology.balancer.policy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * When and where an overloaded shard is split. A shard over a split threshold for the sustained number of windows has
 * its biggest chunk (its busiest, when only its query load is over) split at the point its key sample gives, and the
 * upper half moved to the least used free shard that is itself under its split thresholds and in the chunk's zone, if it
 * has one (a chunk whose zone has no such shard is passed over for the next). A chunk whose sample holds a
 * single key is reported once (until its routing version changes) and the next candidate is tried; when no candidate
 * can be split, the {@link MovePolicy} decides. A chunk not sampled yet stops the search: the decision waits for data.
 */
public final class SplitPolicy {

    private final SplitPoints splitPoints;
    private final MovePolicy fallback;

    public SplitPolicy(SplitPoints splitPoints, MovePolicy fallback) {
        this.splitPoints = splitPoints;
        this.fallback = fallback;
    }

    /**
     * What to do about {@code shard}: the chunks found unsplittable on the way, in order, then at most one
     * {@link Decision.Split} or {@link Decision.Move}. Empty when the shard is not over its thresholds for long enough,
     * is not free, no other shard can take the upper half, or its chunks are not sampled yet.
     */
    public List<Decision> decide(ShardView shard, ClusterSnapshot cluster) {
        if (!shard.sustainedOverSplit() || !cluster.free(shard)) {
            return List.of();
        }
        if (leastUsedTarget(shard, cluster, null) == null) {
            return List.of();
        }
        boolean byLoad = byLoad(shard);
        List<ChunkView> chunks = byWeight(shard, byLoad);
        List<Decision> decisions = new ArrayList<>();
        for (ChunkView chunk : chunks) {
            ShardView target = leastUsedTarget(shard, cluster, chunk);
            if (chunk.knownUnsplittable() || target == null) {
                continue;
            }
            SplitPoint point = splitPoints.find(chunk, shard.id(), byLoad);
            if (point.unsplittable()) {
                decisions.add(new Decision.Unsplittable(shard, chunk, point.samples()));
                continue;
            }
            if (!point.splittable()) {
                return decisions; // not sampled yet: decide in a later window, with data
            }
            decisions.add(new Decision.Split(shard, target, chunk, point, byLoad));
            return decisions;
        }
        ShardView moveTarget = chunks.size() > 1 ? leastUsedTarget(shard, cluster, chunks.get(1)) : null;
        if (moveTarget != null) {
            fallback.decide(shard, moveTarget, chunks).ifPresent(decisions::add);
        }
        return decisions;
    }

    /** A shard over its load threshold only is split by load: its busiest chunk, at the write-load median. */
    static boolean byLoad(ShardView shard) {
        return shard.storageRatio() <= shard.thresholds().getSplitStorageRatio();
    }

    /**
     * The least used other shard that is free, itself under its split thresholds and allowed for the chunk by its zone
     * (any zone when {@code chunk} is null), or {@code null}.
     */
    static ShardView leastUsedTarget(ShardView shard, ClusterSnapshot cluster, ChunkView chunk) {
        ShardView target = null;
        for (ShardView candidate : cluster.shards()) {
            if (!candidate.id().equals(shard.id()) && cluster.free(candidate) && !candidate.overSplit()
                && (chunk == null || cluster.allows(chunk, candidate))
                && (target == null || candidate.utilization() < target.utilization())) {
                target = candidate;
            }
        }
        return target;
    }

    /** The shard's chunks, biggest first, or busiest first for a split by load. */
    static List<ChunkView> byWeight(ShardView shard, boolean byLoad) {
        List<ChunkView> chunks = new ArrayList<>(shard.chunks());
        chunks.sort(byLoad ? Comparator.comparingDouble(ChunkView::opsPerSec).reversed() : Comparator.comparingLong(ChunkView::bytes).reversed());
        return chunks;
    }
}
