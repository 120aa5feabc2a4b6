package io.shardline.core.routing;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.pcollections.TreePMap;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;

/**
 * The chunks of one namespace, indexed by their lower bound. Immutable; built only from a set of chunks that
 * covers the whole key space without gaps or overlaps ({@link #validate}). The chunks are held in a persistent map,
 * so {@link RoutingTable} derives the next routing from this one in O(log n) and requests keep the one they started
 * with.
 */
public final class NamespaceRouting {

    private final String namespace;
    private final TreePMap<ShardKey, Chunk> chunks;
    private final long version;

    /** Callers guarantee that {@code chunks} cover the key space exactly once. */
    NamespaceRouting(String namespace, TreePMap<ShardKey, Chunk> chunks, long version) {
        this.namespace = namespace;
        this.chunks = chunks;
        this.version = version;
    }

    /**
     * @throws RoutingInvariantException listing every gap, overlap or foreign chunk
     */
    public static NamespaceRouting of(String namespace, Collection<Chunk> chunks) {
        List<String> violations = validate(namespace, chunks);
        if (!violations.isEmpty()) {
            throw new RoutingInvariantException(namespace, violations);
        }
        TreePMap<ShardKey, Chunk> byMin = TreePMap.empty();
        long version = 0;
        for (Chunk chunk : chunks) {
            byMin = byMin.plus(chunk.min(), chunk);
            version = Math.max(version, chunk.version());
        }
        return new NamespaceRouting(namespace, byMin, version);
    }

    /** Every way the chunks fail to cover the key space exactly once; empty when they do. */
    public static List<String> validate(String namespace, Collection<Chunk> chunks) {
        List<String> violations = new ArrayList<>();
        List<Chunk> sorted = new ArrayList<>();
        for (Chunk chunk : chunks) {
            if (!chunk.namespace().equals(namespace)) {
                violations.add("chunk " + chunk.range() + " belongs to " + chunk.namespace());
            } else {
                sorted.add(chunk);
            }
        }
        if (sorted.isEmpty()) {
            violations.add("no chunks");
            return violations;
        }
        sorted.sort((a, b) -> a.min().compareTo(b.min()));
        if (!sorted.get(0).min().isMin()) {
            violations.add("gap " + new KeyRange(ShardKey.MIN, sorted.get(0).min()) + " before the first chunk");
        }
        for (int i = 1; i < sorted.size(); i++) {
            Chunk previous = sorted.get(i - 1);
            Chunk current = sorted.get(i);
            int cmp = ShardKey.compareUpper(previous.max(), current.min());
            if (cmp < 0) {
                violations.add("gap [" + previous.max() + ", " + current.min() + ") between chunks on "
                    + previous.shardId() + " and " + current.shardId());
            } else if (cmp > 0) {
                violations.add("overlap: " + previous.range() + " on " + previous.shardId() + " and "
                    + current.range() + " on " + current.shardId());
            }
        }
        Chunk last = sorted.get(sorted.size() - 1);
        if (last.max() != null) {
            violations.add("gap [" + last.max() + ", MAX) after the last chunk");
        }
        return violations;
    }

    public String namespace() {
        return namespace;
    }

    /** Highest chunk version applied to the namespace. */
    public long version() {
        return version;
    }

    /** The chunk that holds a key; exactly one exists by construction. */
    public Chunk chunkFor(ShardKey key) {
        return chunks.floorEntry(key).getValue();
    }

    /** The chunks that overlap a range, in key order. */
    public List<Chunk> chunksFor(KeyRange range) {
        ShardKey start = chunks.floorKey(range.min());
        List<Chunk> result = new ArrayList<>();
        for (Map.Entry<ShardKey, Chunk> entry : chunks.tailMap(start, true).entrySet()) {
            if (range.max() != null && entry.getKey().compareTo(range.max()) >= 0) {
                break;
            }
            result.add(entry.getValue());
        }
        return result;
    }

    /** The chunk that starts exactly at {@code min}, or {@code null}. */
    public Chunk chunkStartingAt(ShardKey min) {
        return chunks.get(min);
    }

    public List<Chunk> chunks() {
        return List.copyOf(chunks.values());
    }

    /** How many chunks the namespace has. */
    public int size() {
        return chunks.size();
    }
}
