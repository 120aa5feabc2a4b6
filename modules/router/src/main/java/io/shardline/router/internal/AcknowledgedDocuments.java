package io.shardline.router.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import io.shardline.core.key.KeyHex;
import io.shardline.core.routing.Chunk;
import io.shardline.schemas.avro.AcknowledgedCount;

/**
 * What this router acknowledged to its clients, per chunk range as the routing had it when it wrote: documents it
 * inserted or created by upsert, documents its deletes removed (as the shards counted them), and writes that failed
 * after reaching a shard, whose effect on the count is unknown. Totals since the router started (restored from the
 * acknowledged topic when a router of the same id ran before), published by {@link RouterSignals} for the ranges that
 * changed. Summed over all routers they are a figure of each chunk's documents that does not come from the shards.
 */
public final class AcknowledgedDocuments {

    /** A chunk range as it was when written to: namespace and bounds in hex ({@code maxHex} null for +infinity). */
    public record Range(String namespace, String minHex, String maxHex) {
        static Range of(Chunk chunk) {
            return new Range(chunk.namespace(), chunk.min().toHex(), chunk.max() == null ? null : chunk.max().toHex());
        }
    }

    private static final class Counters {
        final LongAdder added = new LongAdder();
        final LongAdder removed = new LongAdder();
        final LongAdder uncertain = new LongAdder();
        final AtomicBoolean changed = new AtomicBoolean();
    }

    private final String routerId;
    private final Map<Range, Counters> ranges = new ConcurrentHashMap<>();

    public AcknowledgedDocuments(String routerId) {
        this.routerId = routerId;
    }

    /** Starts from what a router of this id published before (it restarted). */
    public void restore(AcknowledgedCount published) {
        if (!routerId.equals(published.getRouterId())) {
            return;
        }
        io.shardline.core.key.KeyRange range = io.shardline.core.key.KeyRange.ofEncoded(published.getChunkMin(), published.getChunkMax());
        Counters counters = counters(new Range(published.getNamespace(), range.min().toHex(), range.max() == null ? null : range.max().toHex()));
        counters.added.add(published.getAdded());
        counters.removed.add(published.getRemoved());
        counters.uncertain.add(published.getUncertain());
    }

    public void added(Chunk chunk, long documents) {
        change(chunk).added.add(documents);
    }

    public void removed(Chunk chunk, long documents) {
        change(chunk).removed.add(documents);
    }

    /** A write that failed after it may have reached the chunk's shard. */
    public void uncertain(Chunk chunk) {
        change(chunk).uncertain.increment();
    }

    private Counters change(Chunk chunk) {
        Counters counters = counters(Range.of(chunk));
        counters.changed.set(true);
        return counters;
    }

    private Counters counters(Range range) {
        return ranges.computeIfAbsent(range, r -> new Counters());
    }

    /** The totals of every range that changed since the last call, as records to publish. */
    public List<AcknowledgedCount> changed() {
        List<AcknowledgedCount> records = new ArrayList<>();
        Instant now = Instant.now();
        ranges.forEach((range, counters) -> {
            if (counters.changed.getAndSet(false)) {
                records.add(AcknowledgedCount.newBuilder().setRouterId(routerId).setNamespace(range.namespace())
                    .setChunkMin(KeyHex.bytes(range.minHex())).setChunkMax(KeyHex.bytes(range.maxHex()))
                    .setAdded(counters.added.sum()).setRemoved(counters.removed.sum()).setUncertain(counters.uncertain.sum())
                    .setUpdatedAt(now).build());
            }
        });
        return records;
    }
}
