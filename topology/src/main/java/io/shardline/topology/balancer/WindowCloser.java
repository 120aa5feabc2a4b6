package io.shardline.topology.balancer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ValueAndTimestamp;

import io.shardline.schemas.avro.ChunkStats;
import io.shardline.core.routing.Zones;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardHealth;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.topology.balancer.policy.ChunkView;
import io.shardline.topology.balancer.policy.ClusterSnapshot;
import io.shardline.topology.balancer.policy.ShardView;
import io.shardline.topology.internal.avro.BalancerShardState;

/**
 * Closes a decision window over the balancer's stores: turns the window's load counts into rates (per chunk, then per
 * shard), relates sizes and rates to capacities, advances each shard's split and merge streaks, and gives the
 * {@link ClusterSnapshot} the policies decide on, with the shard states to store once the decisions are applied.
 */
final class WindowCloser {

    private static final String LAST_WINDOW_END = "last-window-end";

    /**
     * The snapshot of a closed window, the updated state of every shard in it (by shard id, in snapshot order), and
     * each routed chunk's table row by routing key (its time left to the publisher).
     */
    record ClosedWindow(ClusterSnapshot snapshot, Map<String, BalancerShardState> states, Map<String, ChunkWindows.Row> chunkRows) {
    }

    private final BalancerStores stores;
    private final long defaultWindowMillis;
    /** The thresholds of each namespace, read once per window. */
    private final Map<String, Thresholds> thresholds = new HashMap<>();

    WindowCloser(BalancerStores stores, long defaultWindowMillis) {
        this.stores = stores;
        this.defaultWindowMillis = defaultWindowMillis;
    }

    ClosedWindow close(long now) {
        Long last = stores.clock.get(LAST_WINDOW_END);
        long windowMillis = last == null ? defaultWindowMillis : Math.max(1, now - last);
        stores.clock.put(LAST_WINDOW_END, now);
        thresholds.clear();
        ChunkWindows.Closed chunks = new ChunkWindows(stores).close(windowMillis);
        Map<String, List<ChunkView>> chunksByShard = chunks.byShard();
        Map<String, BalancerShardState> states = new LinkedHashMap<>();
        List<ShardView> shards = new ArrayList<>();
        List<ShardDescriptor> descriptors = new ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<ShardDescriptor>> all = stores.descriptors.all()) {
            all.forEachRemaining(entry -> {
                if (entry.value != null) {
                    ShardDescriptor descriptor = entry.value.value();
                    descriptors.add(descriptor);
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
        // A DOWN shard's figures are the last it sent: no decision takes it as source or target until it is UP again.
        descriptors.stream().filter(descriptor -> descriptor.getHealth() == ShardHealth.DOWN).forEach(descriptor -> busy.add(descriptor.getShardId()));
        states.forEach((id, state) -> {
            if (state.getPendingCommandId() != null && state.getPendingUntilMillis() > now) {
                busy.add(id);
                inFlight.add(state.getPendingCommandId());
            }
        });
        List<NamespaceConfig> zoned = new ArrayList<>();
        try (KeyValueIterator<String, ValueAndTimestamp<NamespaceConfig>> all = stores.configs.all()) {
            all.forEachRemaining(entry -> {
                if (entry.value != null && !entry.value.value().getZones().isEmpty()) {
                    zoned.add(entry.value.value());
                }
            });
        }
        return new ClosedWindow(ClusterSnapshot.of(now, shards, busy, inFlight.size(), Zones.of(descriptors, zoned)), states, chunks.rows());
    }

    /** Closes one shard's window: its rates, ratios, thresholds, the filled mark and the streaks (updated in {@code state}). */
    /** A namespace's thresholds from its config, {@code null} without one. */
    private Thresholds thresholdsOf(String namespace) {
        ValueAndTimestamp<NamespaceConfig> config = stores.configs.get(namespace);
        return config == null ? null : config.value().getThresholds();
    }

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
        Set<String> namespaces = new HashSet<>();
        List<Thresholds> limits = new ArrayList<>();
        for (ChunkView chunk : chunks) {
            if (namespaces.add(chunk.namespace())) {
                Thresholds limit = thresholds.computeIfAbsent(chunk.namespace(), this::thresholdsOf);
                if (limit != null) {
                    limits.add(limit);
                }
            }
        }
        Thresholds thresholds = ShardView.strictest(limits);
        if (size != null && Math.max(storage, load) >= thresholds.getMergeRatio()) {
            state.setFilled(true);
        }
        ShardView measured = view(descriptor, state, bytes, size, storage, load, chunks, thresholds);
        // Streaks count only windows the shard was ACTIVE and answering in: one that comes back UP starts from zero.
        boolean active = descriptor.getState() == ShardState.ACTIVE && descriptor.getHealth() == ShardHealth.UP;
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
}
