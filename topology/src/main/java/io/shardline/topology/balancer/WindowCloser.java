package io.shardline.topology.balancer;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ValueAndTimestamp;

import io.shardline.core.key.KeyHex;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkStats;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.topology.balancer.policy.ChunkView;
import io.shardline.topology.balancer.policy.ClusterSnapshot;
import io.shardline.topology.balancer.policy.ShardView;
import io.shardline.topology.internal.avro.BalancerShardState;
import io.shardline.topology.internal.avro.ChunkNote;

/**
 * Closes a decision window over the balancer's stores: turns the window's load counts into rates (per chunk, then per
 * shard), relates sizes and rates to capacities, advances each shard's split and merge streaks, and gives the
 * {@link ClusterSnapshot} the policies decide on, with the shard states to store once the decisions are applied.
 */
final class WindowCloser {

    private static final String LAST_WINDOW_END = "last-window-end";

    /** The snapshot of a closed window and the updated state of every shard in it, by shard id, in snapshot order. */
    record ClosedWindow(ClusterSnapshot snapshot, Map<String, BalancerShardState> states) {
    }

    private final BalancerStores stores;
    private final long defaultWindowMillis;

    WindowCloser(BalancerStores stores, long defaultWindowMillis) {
        this.stores = stores;
        this.defaultWindowMillis = defaultWindowMillis;
    }

    ClosedWindow close(long now) {
        Long last = stores.clock.get(LAST_WINDOW_END);
        long windowMillis = last == null ? defaultWindowMillis : Math.max(1, now - last);
        stores.clock.put(LAST_WINDOW_END, now);
        closeChunkWindows(windowMillis);

        Map<String, List<ChunkView>> chunksByShard = chunksByShard();
        Map<String, BalancerShardState> states = new LinkedHashMap<>();
        List<ShardView> shards = new ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<ShardDescriptor>> all = stores.descriptors.all()) {
            all.forEachRemaining(entry -> {
                if (entry.value != null) {
                    ShardDescriptor descriptor = entry.value.value();
                    BalancerShardState state = stores.stateOf(descriptor.getShardId());
                    shards.add(close(descriptor, state, chunksByShard.getOrDefault(entry.key, List.of()), windowMillis));
                    states.put(descriptor.getShardId(), state);
                }
            });
        }

        Set<String> busy = new HashSet<>();
        Set<String> inFlight = new HashSet<>();
        try (KeyValueIterator<String, MigrationState> all = stores.migrations.all()) {
            all.forEachRemaining(entry -> {
                busy.add(entry.value.getSourceShardId());
                busy.add(entry.value.getTargetShardId());
                inFlight.add(entry.value.getCommandId());
            });
        }
        states.forEach((id, state) -> {
            if (state.getPendingCommandId() != null && state.getPendingUntilMillis() > now) {
                busy.add(id);
                inFlight.add(state.getPendingCommandId());
            }
        });
        return new ClosedWindow(ClusterSnapshot.of(now, shards, busy, inFlight.size()), states);
    }

    /** Closes one shard's window: its rates, ratios, thresholds, the filled mark and the streaks (updated in {@code state}). */
    private ShardView close(ShardDescriptor descriptor, BalancerShardState state, List<ChunkView> chunks, long windowMillis) {
        ShardStats size = stores.shardSizes.get(descriptor.getShardId());
        long cdcWrites = size == null ? 0 : size.getWrites();
        WindowRates rates = WindowRates.of(state.getWindowReads(), state.getWindowWrites(), state.getLastCdcWrites(), cdcWrites, windowMillis);
        state.setLastCdcWrites(cdcWrites);
        state.setReadsPerSec(rates.reads());
        state.setWritesPerSec(rates.writes());
        state.setOpsPerSec(rates.ops());
        state.setWindowReads(0L);
        state.setWindowWrites(0L);
        long bytes = size == null ? 0 : size.getDataBytes();
        double storage = descriptor.getCapacityBytes() <= 0 ? 0 : (double) bytes / descriptor.getCapacityBytes();
        double load = descriptor.getCapacityOpsPerSec() <= 0 ? 0 : state.getOpsPerSec() / descriptor.getCapacityOpsPerSec();
        List<Thresholds> limits = new ArrayList<>();
        for (ChunkView chunk : chunks) {
            ValueAndTimestamp<NamespaceConfig> config = stores.configs.get(chunk.namespace());
            if (config != null) {
                limits.add(config.value().getThresholds());
            }
        }
        Thresholds thresholds = ShardView.strictest(limits);
        if (size != null && Math.max(storage, load) >= thresholds.getMergeRatio()) {
            state.setFilled(true);
        }
        ShardView measured = view(descriptor, state, bytes, size, storage, load, chunks, thresholds);
        boolean active = descriptor.getState() == ShardState.ACTIVE;
        state.setSplitStreak(active && measured.overSplit() ? state.getSplitStreak() + 1 : 0);
        state.setMergeStreak(active && measured.underMerge() ? state.getMergeStreak() + 1 : 0);
        return view(descriptor, state, bytes, size, storage, load, chunks, thresholds);
    }

    private static ShardView view(ShardDescriptor descriptor, BalancerShardState state, long bytes, ShardStats size, double storage,
                                  double load, List<ChunkView> chunks, Thresholds thresholds) {
        return new ShardView(descriptor.getShardId(), descriptor.getState(), descriptor.getCapacityBytes(), descriptor.getCapacityOpsPerSec(),
            bytes, size == null ? 0 : size.getDocumentCount(), state.getOpsPerSec(), storage, load, size != null, state.getFilled(),
            state.getSplitStreak(), state.getMergeStreak(), state.getCooldownUntilMillis(), chunks, thresholds);
    }

    /** Every routed chunk, by owner, with its size on its owner and the load of the window just closed. */
    private Map<String, List<ChunkView>> chunksByShard() {
        Map<String, List<ChunkView>> byShard = new HashMap<>();
        try (KeyValueIterator<String, ValueAndTimestamp<ChunkRoute>> all = stores.routes.all()) {
            all.forEachRemaining(entry -> {
                if (entry.value == null) {
                    return;
                }
                ChunkRoute route = entry.value.value();
                String minHex = KeyHex.of(route.getMin());
                String key = TopicCatalog.routingKey(route.getNamespace(), minHex);
                ChunkStats size = stores.chunkSizes.get(key);
                boolean sized = size != null && route.getShardId().equals(size.getShardId());
                ChunkNote note = stores.chunkNotes.get(key);
                boolean unsplittable = note != null && note.getUnsplittableAtVersion() != null
                    && note.getUnsplittableAtVersion() == route.getVersion();
                byShard.computeIfAbsent(route.getShardId(), id -> new ArrayList<>()).add(new ChunkView(route, key, minHex,
                    route.getMax() == null ? null : KeyHex.of(route.getMax()), sized ? size.getDocumentCount() : 0, sized ? size.getDataBytes() : 0,
                    note == null ? 0 : note.getOpsPerSec(), unsplittable, loadSplitAt(route, note)));
            });
        }
        return byShard;
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

    /** Closes every chunk's load window: reads from the routers, writes from the routers or CDC, whichever saw more. */
    private void closeChunkWindows(long windowMillis) {
        Set<String> keys = new TreeSet<>();
        try (KeyValueIterator<String, ChunkNote> all = stores.chunkNotes.all()) {
            all.forEachRemaining(entry -> keys.add(entry.key));
        }
        try (KeyValueIterator<String, ChunkStats> all = stores.chunkSizes.all()) {
            all.forEachRemaining(entry -> keys.add(entry.key));
        }
        for (String key : keys) {
            ChunkNote note = stores.noteOf(key);
            ChunkStats size = stores.chunkSizes.get(key);
            long cdcWrites = size == null ? 0 : size.getWrites();
            WindowRates rates = WindowRates.of(note.getWindowReads(), note.getWindowWrites(), note.getLastCdcWrites(), cdcWrites, windowMillis);
            note.setLastCdcWrites(cdcWrites);
            note.setReadsPerSec(rates.reads());
            note.setWritesPerSec(rates.writes());
            note.setOpsPerSec(rates.ops());
            note.setWindowReads(0L);
            note.setWindowWrites(0L);
            stores.chunkNotes.put(key, note);
        }
    }

}
