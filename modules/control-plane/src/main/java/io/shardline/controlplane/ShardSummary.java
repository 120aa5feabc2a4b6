package io.shardline.controlplane;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardStats;

/**
 * The shards of a large cluster at a glance: the {@code top} fullest shards (by the larger of storage and load
 * against capacity) and one line of totals, instead of a line per shard. Up to {@code top} shards, every one is listed.
 */
public final class ShardSummary {

    /** One shard's line. */
    public record Shard(String id, String state, long chunks, long documents, long bytes, double storage, double load, long capacityBytes,
                 long capacityOps, String connection) {

        public double fullness() {
            return Math.max(storage, load);
        }
    }

    private final List<Shard> shards;

    public ShardSummary(List<Shard> shards) {
        this.shards = List.copyOf(shards);
    }

    /** Every registered shard with its chunk count and the controller's last figures (zero before it published any). */
    public static ShardSummary of(ControlPlaneClient plane) {
        Map<String, ShardStats> stats = plane.stats();
        Map<String, Long> chunks = chunksByShard(plane.routing(null));
        List<Shard> shards = new ArrayList<>();
        for (ShardDescriptor shard : plane.shards().values()) {
            ShardStats s = stats.get(shard.getShardId());
            shards.add(new Shard(shard.getShardId(), shard.getState().name(), chunks.getOrDefault(shard.getShardId(), 0L),
                s == null ? 0 : s.getDocumentCount(), s == null ? 0 : s.getDataBytes(), s == null ? 0 : s.getStorageRatio(),
                s == null ? 0 : s.getLoadRatio(), shard.getCapacityBytes(), shard.getCapacityOpsPerSec(), shard.getConnectionString()));
        }
        return new ShardSummary(shards);
    }

    /** The shards to list: all of them up to {@code top}, else the {@code top} fullest, fullest first. */
    public List<Shard> listed(int top) {
        if (top < 0) {
            throw new IllegalArgumentException("top: must be 0 or more, was " + top);
        }
        if (shards.size() <= top) {
            return shards;
        }
        List<Shard> sorted = new ArrayList<>(shards);
        sorted.sort(Comparator.comparingDouble(Shard::fullness).reversed().thenComparing(Shard::id));
        return sorted.subList(0, top);
    }

    public List<Shard> shards() {
        return shards;
    }

    /** What every shard adds up to: shards by state, chunks, documents, bytes, and the median and largest ratios. */
    public record Totals(Map<String, Long> byState, long chunks, long documents, long bytes, double storageMedian, double storageMax,
                         double loadMedian, double loadMax) {
    }

    public Totals totals() {
        Map<String, Long> byState = new TreeMap<>();
        shards.forEach(shard -> byState.merge(shard.state(), 1L, Long::sum));
        double[] storage = shards.stream().mapToDouble(Shard::storage).toArray();
        double[] load = shards.stream().mapToDouble(Shard::load).toArray();
        return new Totals(byState, shards.stream().mapToLong(Shard::chunks).sum(), shards.stream().mapToLong(Shard::documents).sum(),
            shards.stream().mapToLong(Shard::bytes).sum(), median(storage), max(storage), median(load), max(load));
    }

    /** The totals as one line, saying how many of the shards were {@code listed}. */
    public String totalsLine(int listed) {
        Totals totals = totals();
        String states = String.join(", ", totals.byState().entrySet().stream()
            .map(e -> String.format(java.util.Locale.ROOT, "%,d %s", e.getValue(), e.getKey())).toList());
        String shown = listed < shards.size()
            ? String.format(java.util.Locale.ROOT, "; the %d fullest listed, --all lists every one", listed) : "";
        return String.format(java.util.Locale.ROOT, "%,d shards (%s)%s; %,d chunks, %,d documents, %,d bytes; storage median %s, max %s; "
                + "load median %s, max %s", shards.size(), states, shown, totals.chunks(), totals.documents(), totals.bytes(),
            percent(totals.storageMedian()), percent(totals.storageMax()), percent(totals.loadMedian()), percent(totals.loadMax()));
    }

    /** How many chunks each shard owns, by shard id. */
    public static Map<String, Long> chunksByShard(List<io.shardline.schemas.avro.ChunkRoute> routing) {
        Map<String, Long> chunks = new java.util.HashMap<>();
        routing.forEach(route -> chunks.merge(route.getShardId(), 1L, Long::sum));
        return chunks;
    }

    private static double median(double[] values) {
        if (values.length == 0) {
            return 0;
        }
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static double max(double[] values) {
        return java.util.Arrays.stream(values).max().orElse(0);
    }

    /** A ratio as a percentage with one decimal. */
    public static String percent(double ratio) {
        return String.format(java.util.Locale.ROOT, "%.1f%%", ratio * 100);
    }
}
