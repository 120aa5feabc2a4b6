package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bson.Document;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.NamespaceRouting;

/**
 * The chunks a plan touches, grouped by owning shard, with each shard's owned ranges as a filter on
 * {@link ShardKeyField}.
 *
 * @param planRanges the key ranges the filter can match (a superset of the keys of every matching document)
 */
public record ShardTargets(Map<String, List<Chunk>> chunksByShard, List<KeyRange> planRanges) {

    public static ShardTargets of(NamespaceRouting routing, TargetPlan plan) {
        Map<String, List<Chunk>> byShard = new LinkedHashMap<>();
        for (KeyRange range : plan.ranges()) {
            for (Chunk chunk : routing.chunksFor(range)) {
                List<Chunk> chunks = byShard.computeIfAbsent(chunk.shardId(), id -> new ArrayList<>());
                if (!chunks.contains(chunk)) {
                    chunks.add(chunk);
                }
            }
        }
        return new ShardTargets(byShard, plan.ranges());
    }

    public List<String> shards() {
        return List.copyOf(chunksByShard.keySet());
    }

    public List<Chunk> chunks() {
        return chunksByShard.values().stream().flatMap(List::stream).toList();
    }

    /**
     * {@code filter} restricted to the ranges the shard owns among the targeted chunks, so that documents of ranges
     * the shard holds without owning them (a copy in flight to it, a range in its grace period after leaving it)
     * are never read. When the shard owns every key the filter can match (a query by shard key), no such document
     * can match and the filter goes as it is.
     */
    public Document scoped(String shardId, Document filter) {
        List<KeyRange> owned = merged(chunksByShard.get(shardId));
        if (covers(owned, planRanges)) {
            return filter;
        }
        List<Document> ranges = new ArrayList<>();
        for (KeyRange range : owned) {
            Document bounds = new Document("$gte", range.min().toHex());
            if (range.max() != null) {
                bounds.append("$lt", range.max().toHex());
            }
            ranges.add(new Document(ShardKeyField.NAME, bounds));
        }
        Document ownedFilter = ranges.size() == 1 ? ranges.get(0) : new Document("$or", ranges);
        return filter.isEmpty() ? ownedFilter : new Document("$and", List.of(ownedFilter, filter));
    }

    /**
     * {@code filter} restricted to one targeted chunk of the shard: what the shard reports of it (a deleted count)
     * belongs to that chunk alone. With one targeted chunk on the shard it is {@link #scoped}.
     */
    public Document scopedToChunk(String shardId, Chunk chunk, Document filter) {
        if (chunksByShard.get(shardId).size() == 1) {
            return scoped(shardId, filter);
        }
        Document bounds = new Document("$gte", chunk.min().toHex());
        if (chunk.max() != null) {
            bounds.append("$lt", chunk.max().toHex());
        }
        Document range = new Document(ShardKeyField.NAME, bounds);
        return filter.isEmpty() ? range : new Document("$and", List.of(range, filter));
    }

    /** Whether every range of {@code ranges} lies inside one of {@code owned} (both sorted and merged). */
    static boolean covers(List<KeyRange> owned, List<KeyRange> ranges) {
        for (KeyRange range : ranges) {
            boolean inside = false;
            for (KeyRange mine : owned) {
                if (mine.min().compareTo(range.min()) <= 0 && ShardKey.compareUpper(range.max(), mine.max()) <= 0) {
                    inside = true;
                    break;
                }
            }
            if (!inside) {
                return false;
            }
        }
        return true;
    }

    private static List<KeyRange> merged(List<Chunk> chunks) {
        List<KeyRange> merged = new ArrayList<>();
        List<Chunk> sorted = new ArrayList<>(chunks);
        sorted.sort((a, b) -> a.min().compareTo(b.min()));
        for (Chunk chunk : sorted) {
            if (!merged.isEmpty()) {
                KeyRange last = merged.get(merged.size() - 1);
                if (last.max() != null && last.max().equals(chunk.min())) {
                    merged.set(merged.size() - 1, new KeyRange(last.min(), chunk.max()));
                    continue;
                }
            }
            merged.add(chunk.range());
        }
        return merged;
    }

    public static String describe(ShardKey key) {
        return key == null ? "MAX" : key.isMin() ? "MIN" : key.toHex();
    }
}
