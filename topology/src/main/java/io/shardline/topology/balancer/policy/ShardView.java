package io.shardline.topology.balancer.policy;

import java.util.List;
import java.util.Objects;

import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;

/**
 * One shard as the balancer sees it when a window closes: its size and load relative to its capacity, the streaks of
 * windows it spent over its split or under its merge thresholds, its cooldown, its chunks and the thresholds it
 * answers to.
 *
 * @param id                  shard id
 * @param state               the state its descriptor gives
 * @param capacityBytes       registered storage capacity, 0 or less when unknown
 * @param capacityOpsPerSec   registered query capacity, 0 or less when unknown
 * @param bytes               BSON bytes it holds
 * @param documents           documents it holds
 * @param opsPerSec           reads and writes per second of the last window
 * @param storageRatio        bytes over capacity
 * @param loadRatio           ops/s over capacity
 * @param hasStats            it has reported its size
 * @param filled              it has been at or over its merge ratio in some window
 * @param splitStreak         consecutive windows over a split threshold, this one included
 * @param mergeStreak         consecutive windows under the merge ratio on both axes, this one included
 * @param cooldownUntilMillis it takes part in no decision before this time
 * @param chunks              the chunks the routing table gives it
 * @param thresholds          the strictest thresholds of the namespaces it holds ({@link #strictest(List)})
 */
public record ShardView(String id, ShardState state, long capacityBytes, long capacityOpsPerSec, long bytes, long documents,
                        double opsPerSec, double storageRatio, double loadRatio, boolean hasStats, boolean filled, int splitStreak,
                        int mergeStreak, long cooldownUntilMillis, List<ChunkView> chunks, Thresholds thresholds) {

    public ShardView {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(thresholds, "thresholds");
        chunks = List.copyOf(chunks);
    }

    /** The larger of its storage and load ratios. */
    public double utilization() {
        return Math.max(storageRatio, loadRatio);
    }

    /** Over a split threshold in the window just closed. */
    public boolean overSplit() {
        return storageRatio > thresholds.getSplitStorageRatio() || loadRatio > thresholds.getSplitLoadRatio();
    }

    /** Under the merge ratio on both axes in the window just closed, once it has filled. */
    public boolean underMerge() {
        return hasStats && filled && storageRatio < thresholds.getMergeRatio() && loadRatio < thresholds.getMergeRatio();
    }

    /** Over a split threshold for the sustained number of windows. */
    public boolean sustainedOverSplit() {
        return splitStreak >= thresholds.getSustainedWindows();
    }

    /** Under the merge ratio for the sustained number of windows. */
    public boolean sustainedUnderMerge() {
        return mergeStreak >= thresholds.getSustainedWindows();
    }

    /** How far over its split thresholds it is: the larger of storage and load, each over its threshold. */
    public double severity() {
        return Math.max(storageRatio / thresholds.getSplitStorageRatio(), loadRatio / thresholds.getSplitLoadRatio());
    }

    /** Its storage or load is within {@code headroom} (a share of the threshold) of its split thresholds, or over them. */
    public boolean nearSplit(double headroom) {
        return nearSplit(storageRatio, loadRatio, thresholds, headroom);
    }

    /** Whether a shard at these ratios is within {@code headroom} (a share of the threshold) of a split threshold, or over. */
    public static boolean nearSplit(double storageRatio, double loadRatio, Thresholds thresholds, double headroom) {
        return storageRatio >= (1 - headroom) * thresholds.getSplitStorageRatio()
            || loadRatio >= (1 - headroom) * thresholds.getSplitLoadRatio();
    }

    /**
     * The thresholds a shard answers to: of the namespaces it holds, the lowest split and merge ratios, the most
     * sustained windows and the longest minimum chunk age; the defaults when it holds no configured namespace.
     */
    public static Thresholds strictest(List<Thresholds> limits) {
        Thresholds result = Thresholds.newBuilder().build();
        boolean first = true;
        for (Thresholds t : limits) {
            if (first) {
                result = Thresholds.newBuilder(t).build();
                first = false;
                continue;
            }
            result.setSplitStorageRatio(Math.min(result.getSplitStorageRatio(), t.getSplitStorageRatio()));
            result.setSplitLoadRatio(Math.min(result.getSplitLoadRatio(), t.getSplitLoadRatio()));
            result.setMergeRatio(Math.min(result.getMergeRatio(), t.getMergeRatio()));
            result.setSustainedWindows(Math.max(result.getSustainedWindows(), t.getSustainedWindows()));
            result.setMinChunkAgeMillis(Math.max(result.getMinChunkAgeMillis(), t.getMinChunkAgeMillis()));
        }
        return result;
    }
}
