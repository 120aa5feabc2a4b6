package io.shardline.router.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * Read results kept per namespace until something may have changed them: a CDC event of the namespace on any shard,
 * a write of this router to it, or a routing change. A result computed while such a change happened is not kept
 * (each namespace has a generation, bumped on every invalidation, checked before a result is stored). Least recently
 * used results go first when the cache is full.
 */
public final class ReadCache {

    private record Entry(String namespace, Object value) {
    }

    private final int maxEntries;
    private final Map<String, Entry> entries;
    private final Map<String, AtomicLong> generations = new ConcurrentHashMap<>();
    private final LongAdder hits = new LongAdder();

    public ReadCache(int maxEntries) {
        this.maxEntries = maxEntries;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Entry> eldest) {
                return size() > ReadCache.this.maxEntries;
            }
        };
    }

    public boolean enabled() {
        return maxEntries > 0;
    }

    @SuppressWarnings("unchecked")
    public <T> T get(String namespace, String key, Supplier<T> compute) {
        if (!enabled()) {
            return compute.get();
        }
        synchronized (entries) {
            Entry cached = entries.get(key);
            if (cached != null) {
                hits.increment();
                return (T) cached.value();
            }
        }
        long generation = generation(namespace).get();
        T value = compute.get();
        synchronized (entries) {
            if (generation(namespace).get() == generation) {
                entries.put(key, new Entry(namespace, value));
            }
        }
        return value;
    }

    /** Forgets every result of a namespace. */
    public void invalidate(String namespace) {
        if (!enabled()) {
            return;
        }
        generation(namespace).incrementAndGet();
        synchronized (entries) {
            entries.values().removeIf(entry -> entry.namespace().equals(namespace));
        }
    }

    public void invalidateAll() {
        if (!enabled()) {
            return;
        }
        generations.values().forEach(AtomicLong::incrementAndGet);
        synchronized (entries) {
            entries.clear();
        }
    }

    /** Reads answered from the cache so far. */
    public long hits() {
        return hits.sum();
    }

    public int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    private AtomicLong generation(String namespace) {
        return generations.computeIfAbsent(namespace, ns -> new AtomicLong());
    }
}
