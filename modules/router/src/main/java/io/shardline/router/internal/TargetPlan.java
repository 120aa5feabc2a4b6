package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;

/**
 * The key ranges a filter can match, with the reason; {@link #all} when the filter does not constrain the shard
 * key enough to narrow the search. Ranges are kept sorted and merged.
 */
public record TargetPlan(List<KeyRange> ranges, String reason) {

    public static TargetPlan all(String reason) {
        return new TargetPlan(List.of(KeyRange.ALL), reason);
    }

    public static TargetPlan none(String reason) {
        return new TargetPlan(List.of(), reason);
    }

    public static TargetPlan of(List<KeyRange> ranges, String reason) {
        return new TargetPlan(normalize(ranges), reason);
    }

    public boolean isAll() {
        return ranges.size() == 1 && ranges.get(0).equals(KeyRange.ALL);
    }

    /** Keys both plans can match. */
    public TargetPlan intersect(TargetPlan other) {
        if (isAll()) {
            return new TargetPlan(other.ranges, other.reason);
        }
        if (other.isAll()) {
            return this;
        }
        List<KeyRange> result = new ArrayList<>();
        for (KeyRange a : ranges) {
            for (KeyRange b : other.ranges) {
                ShardKey min = a.min().compareTo(b.min()) >= 0 ? a.min() : b.min();
                ShardKey max = ShardKey.compareUpper(a.max(), b.max()) <= 0 ? a.max() : b.max();
                if (max == null || min.compareTo(max) < 0) {
                    result.add(new KeyRange(min, max));
                }
            }
        }
        return of(result, reason + " and " + other.reason);
    }

    /** Keys either plan can match. */
    public TargetPlan union(TargetPlan other) {
        List<KeyRange> result = new ArrayList<>(ranges);
        result.addAll(other.ranges);
        return of(result, reason + " or " + other.reason);
    }

    private static List<KeyRange> normalize(List<KeyRange> ranges) {
        List<KeyRange> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.comparing(KeyRange::min));
        List<KeyRange> merged = new ArrayList<>();
        for (KeyRange range : sorted) {
            if (!merged.isEmpty()) {
                KeyRange last = merged.get(merged.size() - 1);
                if (last.max() == null || range.min().compareTo(last.max()) <= 0) {
                    ShardKey max = ShardKey.compareUpper(last.max(), range.max()) >= 0 ? last.max() : range.max();
                    merged.set(merged.size() - 1, new KeyRange(last.min(), max));
                    continue;
                }
            }
            merged.add(range);
        }
        return List.copyOf(merged);
    }
}
