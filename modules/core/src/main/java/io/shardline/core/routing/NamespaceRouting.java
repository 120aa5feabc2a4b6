package io.shardline.core.routing;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;

/**
 * The chunks of one namespace, indexed by their lower bound. Immutable; built only from a set of chunks that
 * covers the whole key space without gaps or overlaps ({@link #validate}).
 */
public final class NamespaceRouting {

    private final String namespace;
    private final NavigableMap<ShardKey, Chunk> chunks;
    private final long version;

    private NamespaceRouting(String namespace, NavigableMap<ShardKey, Chunk> chunks) {
        this.namespace = namespace;
        this.chunks = chunks;
        this.version = chunks.values().stream().mapToLong(Chunk::version).max().orElse(0);
    }

    /**
     * @throws RoutingInvariantException listing every gap, overlap or foreign chunk
     */
    public static NamespaceRouting of(String namespace, Collection<Chunk> chunks) {
        List<String> violations = validate(namespace, chunks);
        if (!violations.isEmpty()) {
            throw new RoutingInvariantException(namespace, violations);
        }
        NavigableMap<ShardKey, Chunk> byMin = new TreeMap<>();
        chunks.forEach(chunk -> byMin.put(chunk.min(), chunk));
        return new NamespaceRouting(namespace, java.util.Collections.unmodifiableNavigableMap(byMin));
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

    /** Highest chunk version of the namespace. */
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
        NavigableMap<ShardKey, Chunk> tail = chunks.tailMap(start, true);
        List<Chunk> result = new ArrayList<>();
        for (Map.Entry<ShardKey, Chunk> entry : tail.entrySet()) {
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
}
