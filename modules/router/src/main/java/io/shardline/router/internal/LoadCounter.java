package io.shardline.router.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import io.shardline.core.routing.Chunk;

/** Reads and writes the router sent per shard and per chunk since the last sample. */
public final class LoadCounter {

    /** Where load went: a shard as a whole ({@code namespace == null}) or one chunk of it. */
    public record Target(String shardId, String namespace, String chunkMinHex) {
    }

    /** Reads and writes of one target in one window. */
    public record Counts(long reads, long writes) {
    }

    private final Map<Target, LongAdder[]> counters = new ConcurrentHashMap<>();

    public void read(String shardId, Iterable<Chunk> chunks) {
        add(shardId, chunks, 0);
    }

    public void write(String shardId, Iterable<Chunk> chunks) {
        add(shardId, chunks, 1);
    }

    private void add(String shardId, Iterable<Chunk> chunks, int slot) {
        counter(new Target(shardId, null, null))[slot].increment();
        for (Chunk chunk : chunks) {
            counter(new Target(shardId, chunk.namespace(), chunk.min().toHex()))[slot].increment();
        }
    }

    private LongAdder[] counter(Target target) {
        return counters.computeIfAbsent(target, t -> new LongAdder[] {new LongAdder(), new LongAdder()});
    }

    /** The counts since the last call, resetting them. */
    public Map<Target, Counts> drain() {
        Map<Target, Counts> snapshot = new HashMap<>();
        counters.forEach((target, adders) -> {
            long reads = adders[0].sumThenReset();
            long writes = adders[1].sumThenReset();
            if (reads > 0 || writes > 0) {
                snapshot.put(target, new Counts(reads, writes));
            }
        });
        return snapshot;
    }
}
