package io.shardline.core.routing;

import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;

import org.pcollections.TreePMap;

import io.shardline.core.key.ShardKey;

/**
 * The latest chunk records of one namespace and whether they cover the key space exactly once, kept up to date one
 * record at a time. A record changes only the boundaries on either side of its chunk, so applying one costs
 * O(log n): the chunks live in a persistent map and the set of broken boundaries (the mins of chunks whose upper
 * bound is not the next chunk's min, or that end the namespace short of MAX) is rechecked around the change only.
 */
final class ChunkCover {

    private final String namespace;
    private final NavigableSet<ShardKey> brokenBoundaries = new TreeSet<>();
    private TreePMap<ShardKey, Chunk> latest = TreePMap.empty();
    private long version;

    ChunkCover(String namespace) {
        this.namespace = namespace;
    }

    /** Applies a chunk record unless an older version than the one held for its min in the same epoch. */
    boolean put(Chunk chunk) {
        Chunk held = latest.get(chunk.min());
        if (held != null && held.epoch() == chunk.epoch() && held.version() > chunk.version()) {
            return false;
        }
        latest = latest.plus(chunk.min(), chunk);
        version = Math.max(version, chunk.version());
        recheck(latest.lowerKey(chunk.min()));
        recheck(chunk.min());
        return true;
    }

    /**
     * Applies many records at once, as {@link #put} one by one would; into an empty namespace in O(n log n) with a
     * small constant (a sorted build and one pass over the boundaries), for a router loading its local routing store.
     */
    void putAll(java.util.Collection<Chunk> chunks) {
        if (!latest.isEmpty()) {
            chunks.forEach(this::put);
            return;
        }
        java.util.TreeMap<ShardKey, Chunk> sorted = new java.util.TreeMap<>();
        for (Chunk chunk : chunks) {
            Chunk held = sorted.get(chunk.min());
            if (held == null || held.epoch() != chunk.epoch() || held.version() <= chunk.version()) {
                sorted.put(chunk.min(), chunk);
            }
            version = Math.max(version, chunk.version());
        }
        latest = TreePMap.fromSortedMap(sorted);
        Chunk previous = null;
        for (Chunk chunk : sorted.values()) {
            if (previous != null && ShardKey.compareUpper(previous.max(), chunk.min()) != 0) {
                brokenBoundaries.add(previous.min());
            }
            previous = chunk;
        }
        if (previous != null && previous.max() != null) {
            brokenBoundaries.add(previous.min());
        }
    }

    /** Removes the chunk starting at {@code min}; false when there was none. */
    boolean remove(ShardKey min) {
        if (!latest.containsKey(min)) {
            return false;
        }
        latest = latest.minus(min);
        brokenBoundaries.remove(min);
        recheck(latest.lowerKey(min));
        return true;
    }

    private void recheck(ShardKey min) {
        if (min == null) {
            return;
        }
        Chunk chunk = latest.get(min);
        Map.Entry<ShardKey, Chunk> next = latest.higherEntry(min);
        boolean meets = next == null ? chunk.max() == null : ShardKey.compareUpper(chunk.max(), next.getKey()) == 0;
        if (meets) {
            brokenBoundaries.remove(min);
        } else {
            brokenBoundaries.add(min);
        }
    }

    /** Whether the chunks cover the key space exactly once. */
    boolean covers() {
        return !latest.isEmpty() && latest.firstKey().isMin() && brokenBoundaries.isEmpty();
    }

    /** The routing of the latest records; only meaningful while they {@link #covers() cover} the key space. */
    NamespaceRouting routing() {
        return new NamespaceRouting(namespace, latest, version);
    }

    /** The latest records, in key order: a persistent map, so later records do not change what is returned. */
    java.util.Collection<Chunk> latest() {
        return latest.values();
    }

    /** What keeps the latest records from covering the key space; empty when they do. */
    List<String> violations() {
        return covers() ? List.of() : NamespaceRouting.validate(namespace, latest.values());
    }
}
