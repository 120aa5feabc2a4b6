package io.shardline.core.routing;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;

/**
 * The set of chunks of every namespace. Routing records arrive one at a time (a split publishes two), so the
 * table keeps the latest chunk per (namespace, min) and exposes a namespace only while its chunks cover the
 * key space exactly once; {@link #pendingViolations} tells what is still inconsistent. Applying a record costs
 * O(log n) in the namespace's chunk count ({@link ChunkCover}); reading a namespace's routing takes no lock.
 */
public final class RoutingTable {

    private final Map<String, ChunkCover> latest = new HashMap<>();
    private final Map<String, NamespaceRouting> consistent = new ConcurrentHashMap<>();

    /** Applies a chunk record; an older version than the one held for the same (namespace, min) is ignored. */
    public synchronized boolean put(Chunk chunk) {
        ChunkCover cover = latest.computeIfAbsent(chunk.namespace(), ChunkCover::new);
        if (!cover.put(chunk)) {
            return false;
        }
        publish(chunk.namespace(), cover);
        return true;
    }

    /** Applies many chunk records, as {@link #put} one by one in their order would, faster into namespaces the table does not hold yet. */
    public synchronized void putAll(java.util.Collection<Chunk> chunks) {
        Map<String, List<Chunk>> byNamespace = new HashMap<>();
        chunks.forEach(chunk -> byNamespace.computeIfAbsent(chunk.namespace(), ns -> new ArrayList<>()).add(chunk));
        byNamespace.forEach((namespace, records) -> {
            ChunkCover cover = latest.computeIfAbsent(namespace, ChunkCover::new);
            cover.putAll(records);
            publish(namespace, cover);
        });
    }

    /** Applies a tombstone: the chunk starting at {@code min} no longer exists. */
    public synchronized void remove(String namespace, ShardKey min) {
        ChunkCover cover = latest.get(namespace);
        if (cover != null && cover.remove(min)) {
            publish(namespace, cover);
        }
    }

    private void publish(String namespace, ChunkCover cover) {
        if (cover.covers()) {
            consistent.put(namespace, cover.routing());
        }
    }

    /** The last consistent routing of a namespace, if it ever had one. */
    public Optional<NamespaceRouting> namespace(String namespace) {
        return Optional.ofNullable(consistent.get(namespace));
    }

    public Chunk chunkFor(String namespace, ShardKey key) {
        return require(namespace).chunkFor(key);
    }

    public List<Chunk> chunksFor(String namespace, KeyRange range) {
        return require(namespace).chunksFor(range);
    }

    /** What keeps each namespace's latest records from being consistent; empty when all are. */
    public synchronized Map<String, List<String>> pendingViolations() {
        Map<String, List<String>> result = new TreeMap<>();
        latest.forEach((ns, cover) -> {
            List<String> violations = cover.violations();
            if (!violations.isEmpty()) {
                result.put(ns, violations);
            }
        });
        return result;
    }

    /**
     * Every namespace's latest records (also those of a step not yet complete), as of this call: later records do not
     * change what is returned, so a copy can be written out while records keep being applied. O(namespaces).
     */
    public synchronized List<java.util.Collection<Chunk>> latestRecords() {
        List<java.util.Collection<Chunk>> result = new ArrayList<>();
        latest.values().forEach(cover -> result.add(cover.latest()));
        return result;
    }

    /**
     * The namespaces that had a consistent routing and whose latest records no longer cover the key space: a step
     * (a split's two records) is half applied. A copy of the latest records taken now would serve no routing for them
     * until the rest arrives.
     */
    public synchronized List<String> midStep() {
        List<String> result = new ArrayList<>();
        latest.forEach((namespace, cover) -> {
            if (!cover.covers() && consistent.containsKey(namespace)) {
                result.add(namespace);
            }
        });
        return result;
    }

    public List<String> namespaces() {
        return new ArrayList<>(new TreeMap<>(consistent).keySet());
    }

    private NamespaceRouting require(String namespace) {
        return namespace(namespace).orElseThrow(() -> new IllegalArgumentException(
            "namespace " + namespace + " has no routing (not sharded, or its chunks do not yet cover the key space)"));
    }
}
