package io.shardline.topology.balancer.policy;

import java.util.List;
import java.util.Optional;

import io.shardline.schemas.avro.Thresholds;

/**
 * When an idle shard is merged away, and into which shard. A shard under the merge ratio on both axes for the
 * sustained number of windows, that has once filled, owns chunks and holds no chunk split by load younger than the
 * minimum age, is merged into the free shard that stays least used afterwards, if that one stays under half its split
 * thresholds; never below the minimum number of active shards.
 *
 * <p>And only with headroom left in the cluster: every shard near its split thresholds (within {@code headroom} of
 * them, or over) must keep a split target of its own that the merge does not take, that is, the active shards that are
 * neither the merge's source nor its target nor near their own thresholds must be at least as many as the shards near
 * them. With no shard near its thresholds a merge needs nothing more; with a growing shard and only the two shards of
 * the merge to spare, it waits, since the growing shard would soon split and find one target fewer.
 */
public final class MergePolicy {

    private final int minActiveShards;
    private final double headroom;

    /**
     * @param minActiveShards a merge never leaves fewer active shards than this
     * @param headroom        a shard whose storage or load is within this share of its split thresholds is near them
     */
    public MergePolicy(int minActiveShards, double headroom) {
        if (minActiveShards < 1) {
            throw new IllegalArgumentException("minActiveShards must be at least 1, was " + minActiveShards);
        }
        if (!(headroom >= 0 && headroom < 1)) {
            throw new IllegalArgumentException("headroom must be at least 0 and under 1, was " + headroom);
        }
        this.minActiveShards = minActiveShards;
        this.headroom = headroom;
    }

    /** The merge of {@code shard}, or nothing when it is not idle for long enough or a condition above does not hold. */
    public Optional<Decision.Merge> decide(ShardView shard, ClusterSnapshot cluster) {
        if (!shard.sustainedUnderMerge() || shard.chunks().isEmpty() || cluster.activeShards() <= minActiveShards
            || !cluster.free(shard) || hasYoungLoadSplitChunk(shard, cluster.now())) {
            return Optional.empty();
        }
        Decision.Merge best = null;
        for (ShardView candidate : cluster.shards()) {
            if (candidate.id().equals(shard.id()) || !cluster.free(candidate) || candidate.capacityBytes() <= 0
                || candidate.capacityOpsPerSec() <= 0 || !shard.chunks().stream().allMatch(chunk -> cluster.allows(chunk, candidate))) {
                continue;
            }
            Thresholds limits = ShardView.strictest(List.of(shard.thresholds(), candidate.thresholds()));
            double storageAfter = (double) (candidate.bytes() + shard.bytes()) / candidate.capacityBytes();
            double loadAfter = (candidate.opsPerSec() + shard.opsPerSec()) / candidate.capacityOpsPerSec();
            if (storageAfter < limits.getSplitStorageRatio() / 2 && loadAfter < limits.getSplitLoadRatio() / 2
                && (best == null || Math.max(storageAfter, loadAfter) < Math.max(best.storageRatioAfter(), best.loadRatioAfter()))) {
                best = new Decision.Merge(shard, candidate, storageAfter, loadAfter);
            }
        }
        if (best == null || !leavesHeadroom(best, cluster)) {
            return Optional.empty();
        }
        return Optional.of(best);
    }

    /**
     * Whether the cluster keeps enough room once {@code merge} is carried out: as many spare shards (active, neither
     * the merge's source nor its target, not near their split thresholds) as shards near their split thresholds, the
     * target counted as it will be after the merge.
     */
    boolean leavesHeadroom(Decision.Merge merge, ClusterSnapshot cluster) {
        int near = 0;
        int spare = 0;
        for (ShardView shard : cluster.shards()) {
            if (shard.id().equals(merge.source().id()) || !cluster.active(shard)) {
                continue;
            }
            if (shard.id().equals(merge.target().id())) {
                near += ShardView.nearSplit(merge.storageRatioAfter(), merge.loadRatioAfter(), shard.thresholds(), headroom) ? 1 : 0;
            } else if (shard.nearSplit(headroom)) {
                near++;
            } else {
                spare++;
            }
        }
        return spare >= near;
    }

    private static boolean hasYoungLoadSplitChunk(ShardView shard, long now) {
        return shard.chunks().stream().anyMatch(chunk -> chunk.youngLoadSplit(now, shard.thresholds().getMinChunkAgeMillis()));
    }
}
