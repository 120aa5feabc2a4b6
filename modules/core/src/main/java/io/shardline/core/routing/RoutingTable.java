package io.shardline.core.routing;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;

/**
 * The set of chunks of every namespace. Routing records arrive one at a time (a split publishes two), so the
 * table keeps the latest chunk per (namespace, min) and exposes a namespace only while its chunks cover the
 * key space exactly once; {@link #pendingViolations} tells what is still inconsistent.
 */
public final class RoutingTable {

    private final Map<String, TreeMap<ShardKey, Chunk>> latest = new HashMap<>();
    private final Map<String, NamespaceRouting> consistent = new HashMap<>();

    /** Applies a chunk record; an older version than the one held for the same (namespace, min) is ignored. */
    public synchronized boolean put(Chunk chunk) {
        TreeMap<ShardKey, Chunk> chunks = latest.computeIfAbsent(chunk.namespace(), ns -> new TreeMap<>());
        Chunk held = chunks.get(chunk.min());
        if (held != null && held.epoch() == chunk.epoch() && held.version() > chunk.version()) {
            return false;
        }
        chunks.put(chunk.min(), chunk);
        refresh(chunk.namespace());
        return true;
    }

    /** Applies a tombstone: the chunk starting at {@code min} no longer exists. */
    public synchronized void remove(String namespace, ShardKey min) {
        TreeMap<ShardKey, Chunk> chunks = latest.get(namespace);
        if (chunks != null && chunks.remove(min) != null) {
            refresh(namespace);
        }
    }

    private void refresh(String namespace) {
        Collection<Chunk> chunks = latest.get(namespace).values();
        if (NamespaceRouting.validate(namespace, chunks).isEmpty()) {
            consistent.put(namespace, NamespaceRouting.of(namespace, chunks));
        }
    }

    /** The last consistent routing of a namespace, if it ever had one. */
    public synchronized Optional<NamespaceRouting> namespace(String namespace) {
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
        latest.forEach((ns, chunks) -> {
            List<String> violations = NamespaceRouting.validate(ns, chunks.values());
            if (!violations.isEmpty()) {
                result.put(ns, violations);
            }
        });
        return result;
    }

    public synchronized List<String> namespaces() {
        return new ArrayList<>(new TreeMap<>(consistent).keySet());
    }

    private NamespaceRouting require(String namespace) {
        return namespace(namespace).orElseThrow(() -> new IllegalArgumentException(
            "namespace " + namespace + " has no routing (not sharded, or its chunks do not yet cover the key space)"));
    }
}
