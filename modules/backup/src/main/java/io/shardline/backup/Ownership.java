package io.shardline.backup;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;

/**
 * The key ranges a shard owned at a moment, per namespace, from what it owned at another moment and the migrations'
 * history: a migration hands its range from source to target at its cutover ({@code cutOverAt}), and a migration
 * rolled back after its cutover hands it back with the route that does it ({@code handedBackAt}; for states written
 * before that field, the {@code updatedAt} of its ROLLED_BACK state). A shard replacement is recorded as such a
 * handover too. Splits and merges of chunks change no owner. Ranges are kept as sorted, disjoint, coalesced lists.
 */
public final class Ownership {

    private Ownership() {
    }

    private record Handover(long at, String namespace, KeyRange range, String from, String to) {
    }

    /**
     * @param shardId    the shard
     * @param at         the moment asked about, epoch milliseconds
     * @param known      what the shard owned at {@code knownAt}, per namespace
     * @param knownAt    when it owned that
     * @param migrations every migration's latest state (the compacted migrations topic)
     */
    public static Map<String, List<KeyRange>> at(String shardId, long at, Map<String, List<KeyRange>> known, long knownAt,
                                                 Collection<MigrationState> migrations) {
        Map<String, List<KeyRange>> owned = new HashMap<>();
        known.forEach((namespace, ranges) -> {
            List<KeyRange> set = new ArrayList<>();
            ranges.forEach(range -> add(set, range));
            owned.put(namespace, set);
        });
        List<Handover> handovers = handovers(migrations);
        if (at >= knownAt) {
            handovers.stream().filter(h -> h.at() > knownAt && h.at() <= at).sorted(Comparator.comparingLong(Handover::at))
                .forEach(h -> apply(owned, shardId, h.namespace(), h.range(), h.to(), h.from()));
        } else {
            handovers.stream().filter(h -> h.at() > at && h.at() <= knownAt).sorted(Comparator.comparingLong(Handover::at).reversed())
                .forEach(h -> apply(owned, shardId, h.namespace(), h.range(), h.from(), h.to()));
        }
        return owned;
    }

    private static void apply(Map<String, List<KeyRange>> owned, String shardId, String namespace, KeyRange range, String gains, String loses) {
        List<KeyRange> set = owned.computeIfAbsent(namespace, ns -> new ArrayList<>());
        if (shardId.equals(gains)) {
            add(set, range);
        } else if (shardId.equals(loses)) {
            subtract(set, range);
        }
    }

    private static List<Handover> handovers(Collection<MigrationState> migrations) {
        List<Handover> handovers = new ArrayList<>();
        for (MigrationState state : migrations) {
            if (state.getCutOverAt() == null) {
                continue;
            }
            KeyRange range = KeyRange.ofEncoded(state.getChunkMin(), state.getChunkMax());
            handovers.add(new Handover(state.getCutOverAt().toEpochMilli(), state.getNamespace(), range, state.getSourceShardId(), state.getTargetShardId()));
            if (state.getHandedBackAt() != null || state.getPhase() == MigrationPhase.ROLLED_BACK) {
                long back = state.getHandedBackAt() != null ? state.getHandedBackAt().toEpochMilli() : state.getUpdatedAt().toEpochMilli();
                handovers.add(new Handover(back, state.getNamespace(), range, state.getTargetShardId(), state.getSourceShardId()));
            }
        }
        return handovers;
    }

    /** True when {@code key} is in one of the ranges. */
    public static boolean contains(List<KeyRange> ranges, ShardKey key) {
        for (KeyRange range : ranges) {
            if (range.contains(key)) {
                return true;
            }
            if (range.min().compareTo(key) > 0) {
                return false;
            }
        }
        return false;
    }

    /** Adds a range to a sorted, disjoint, coalesced list, keeping it so. */
    static void add(List<KeyRange> set, KeyRange range) {
        ShardKey min = range.min();
        ShardKey max = range.max();
        List<KeyRange> kept = new ArrayList<>();
        for (KeyRange existing : set) {
            boolean touches = (existing.max() == null || existing.max().compareTo(min) >= 0) && (max == null || existing.min().compareTo(max) <= 0);
            if (touches) {
                min = existing.min().compareTo(min) < 0 ? existing.min() : min;
                max = existing.max() == null || max == null ? null : ShardKey.compareUpper(existing.max(), max) > 0 ? existing.max() : max;
            } else {
                kept.add(existing);
            }
        }
        kept.add(new KeyRange(min, max));
        kept.sort(Comparator.comparing(KeyRange::min));
        set.clear();
        set.addAll(kept);
    }

    /** Takes a range out of a sorted, disjoint list, keeping it so. */
    static void subtract(List<KeyRange> set, KeyRange range) {
        List<KeyRange> kept = new ArrayList<>();
        for (KeyRange existing : set) {
            if (!existing.overlaps(range)) {
                kept.add(existing);
                continue;
            }
            if (existing.min().compareTo(range.min()) < 0) {
                kept.add(new KeyRange(existing.min(), range.min()));
            }
            if (range.max() != null && (existing.max() == null || existing.max().compareTo(range.max()) > 0)) {
                kept.add(new KeyRange(range.max(), existing.max()));
            }
        }
        set.clear();
        set.addAll(kept);
    }
}
