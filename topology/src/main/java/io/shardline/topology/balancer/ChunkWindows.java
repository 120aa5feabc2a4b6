package io.shardline.topology.balancer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ValueAndTimestamp;

import io.shardline.core.key.KeyHex;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkStats;
import io.shardline.topology.balancer.policy.ChunkView;
import io.shardline.topology.internal.avro.ChunkNote;

/**
 * Closes every chunk's load window in one pass: the routes, the chunk sizes and the balancer's chunk notes are read
 * together in key order (all three are keyed by routing key, {@code <namespace>|<min hex>}, and every store iterates
 * in the order of its serialized keys), so a chunk costs no lookup. A note is written only when closing the window
 * changed it (a chunk with no load and no new CDC writes keeps its note as it was). Reads from the routers, writes
 * from the routers or CDC, whichever saw more.
 */
final class ChunkWindows {

    /** The chunks of a closed window by owner, and each routed chunk's table row, by routing key. */
    record Closed(Map<String, List<ChunkView>> byShard, Map<String, Row> rows) {
    }

    /** A chunk's row of the chunk-stats table, without its time: equal rows need not be published again. */
    record Row(String namespace, ByteBuffer min, ByteBuffer max, String shardId, long documents, long bytes, long writes, double readsPerSec,
               double writesPerSec) {

        ChunkStats stats(Instant at) {
            return ChunkStats.newBuilder().setNamespace(namespace).setChunkMin(min).setChunkMax(max).setShardId(shardId).setDocumentCount(documents)
                .setDataBytes(bytes).setWrites(writes).setReadsPerSec(readsPerSec).setWritesPerSec(writesPerSec).setUpdatedAt(at).build();
        }
    }

    private final BalancerStores stores;

    ChunkWindows(BalancerStores stores) {
        this.stores = stores;
    }

    Closed close(long windowMillis) {
        Map<String, List<ChunkView>> byShard = new HashMap<>();
        Map<String, Row> rows = new HashMap<>();
        List<KeyValue<String, ChunkNote>> changed = new ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<ChunkRoute>> routeIterator = stores.routes.all();
             KeyValueIterator<String, ChunkStats> sizeIterator = stores.chunkSizes.all();
             KeyValueIterator<String, ChunkNote> noteIterator = stores.chunkNotes.all()) {
            Head<ValueAndTimestamp<ChunkRoute>> routes = new Head<>(routeIterator);
            Head<ChunkStats> sizes = new Head<>(sizeIterator);
            Head<ChunkNote> notes = new Head<>(noteIterator);
            while (routes.key != null || sizes.key != null || notes.key != null) {
                byte[] next = smallest(routes.encoded, sizes.encoded, notes.encoded);
                String key = routes.at(next) ? routes.key : sizes.at(next) ? sizes.key : notes.key;
                ValueAndTimestamp<ChunkRoute> routed = routes.takeIf(next);
                ChunkStats size = sizes.takeIf(next);
                ChunkNote note = closeWindow(key, notes.takeIf(next), size, windowMillis, changed);
                if (routed != null && routed.value() != null) {
                    ChunkRoute route = routed.value();
                    String minHex = KeyHex.of(route.getMin());
                    String routeKey = TopicCatalog.routingKey(route.getNamespace(), minHex);
                    if (!routeKey.equals(key)) {
                        // A route record under another key than its own bounds give: look its figures up by its own key.
                        size = stores.chunkSizes.get(routeKey);
                        note = stores.chunkNotes.get(routeKey);
                    }
                    add(byShard, rows, route, routeKey, minHex, size, note);
                }
            }
        }
        stores.chunkNotes.putAll(changed);
        return new Closed(byShard, rows);
    }

    /**
     * The note after closing the window, added to {@code changed} (written once the stores' iterators are closed) when it
     * changed; {@code null} for a chunk with neither note nor size.
     */
    private static ChunkNote closeWindow(String key, ChunkNote held, ChunkStats size, long windowMillis, List<KeyValue<String, ChunkNote>> changed) {
        if (held == null && size == null) {
            return null;
        }
        ChunkNote note = held == null ? ChunkNote.newBuilder().build() : held;
        long cdcWrites = size == null ? 0 : size.getWrites();
        WindowRates rates = WindowRates.of(note.getWindowReads(), note.getWindowWrites(), note.getLastCdcWrites(), cdcWrites, windowMillis);
        boolean unchanged = held != null && note.getWindowReads() == 0 && note.getWindowWrites() == 0 && note.getLastCdcWrites() == cdcWrites
            && note.getReadsPerSec() == rates.reads() && note.getWritesPerSec() == rates.writes() && note.getOpsPerSec() == rates.ops();
        if (unchanged) {
            return note;
        }
        note.setLastCdcWrites(cdcWrites);
        note.setReadsPerSec(rates.reads());
        note.setWritesPerSec(rates.writes());
        note.setOpsPerSec(rates.ops());
        note.setWindowReads(0L);
        note.setWindowWrites(0L);
        changed.add(KeyValue.pair(key, note));
        return note;
    }

    private static void add(Map<String, List<ChunkView>> byShard, Map<String, Row> rows, ChunkRoute route, String key, String minHex,
                            ChunkStats size, ChunkNote note) {
        boolean sized = size != null && route.getShardId().equals(size.getShardId());
        boolean unsplittable = note != null && note.getUnsplittableAtVersion() != null && note.getUnsplittableAtVersion() == route.getVersion();
        ChunkView view = new ChunkView(route, key, minHex, route.getMax() == null ? null : KeyHex.of(route.getMax()),
            sized ? size.getDocumentCount() : 0, sized ? size.getDataBytes() : 0, note == null ? 0 : note.getOpsPerSec(), unsplittable,
            loadSplitAt(route, note));
        byShard.computeIfAbsent(route.getShardId(), id -> new ArrayList<>()).add(view);
        rows.put(key, new Row(route.getNamespace(), route.getMin(), route.getMax(), route.getShardId(), view.documents(), view.bytes(),
            size == null ? 0 : size.getWrites(), note == null ? 0 : note.getReadsPerSec(), note == null ? 0 : note.getWritesPerSec()));
    }

    /** When the chunk was last split by load: the later of what its route says and what the balancer noted. */
    private static Long loadSplitAt(ChunkRoute route, ChunkNote note) {
        Instant routed = route.getSplitByLoadAt();
        Long noted = note == null ? null : note.getLoadSplitAtMillis();
        if (routed == null) {
            return noted;
        }
        return noted == null ? routed.toEpochMilli() : Math.max(routed.toEpochMilli(), noted);
    }

    private static byte[] smallest(byte[]... keys) {
        byte[] smallest = null;
        for (byte[] key : keys) {
            if (key != null && (smallest == null || Arrays.compareUnsigned(key, smallest) < 0)) {
                smallest = key;
            }
        }
        return smallest;
    }

    /** The next entry of a store's iterator, with its key as the store orders it (UTF-8 bytes). */
    private static final class Head<V> {
        private final Iterator<KeyValue<String, V>> iterator;
        String key;
        byte[] encoded;
        V value;

        Head(Iterator<KeyValue<String, V>> iterator) {
            this.iterator = iterator;
            advance();
        }

        boolean at(byte[] next) {
            return encoded != null && Arrays.equals(encoded, next);
        }

        /** The value at {@code next} (advancing past it), or {@code null} when this store has no entry there. */
        V takeIf(byte[] next) {
            if (!at(next)) {
                return null;
            }
            V taken = value;
            advance();
            return taken;
        }

        private void advance() {
            if (iterator.hasNext()) {
                KeyValue<String, V> entry = iterator.next();
                key = entry.key;
                encoded = entry.key.getBytes(StandardCharsets.UTF_8);
                value = entry.value;
            } else {
                key = null;
                encoded = null;
                value = null;
            }
        }
    }
}
