package io.shardline.topology.internal;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkStats;
import io.shardline.schemas.avro.KeySample;
import io.shardline.schemas.avro.MergeShards;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.QueryLoadSample;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.schemas.avro.SplitShard;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.topology.RebalanceTopology;
import io.shardline.topology.ShardSizeTopology;
import io.shardline.topology.internal.avro.BalancerShardState;
import io.shardline.topology.internal.avro.ChunkNote;

/**
 * The decision processor of {@link RebalanceTopology}: folds sizes, load samples and migrations into its stores as
 * they come, and decides once per decision window (wall-clock punctuation). Outputs are {@link ShardCommand}s (keyed by
 * the source shard) and {@link ShardEvent}s.
 */
public final class Balancer implements Processor<String, BalancerInput, String, SpecificRecord> {

    private static final String LAST_WINDOW_END = "last-window-end";
    private static final Set<MigrationPhase> ENDED = Set.of(MigrationPhase.CLEANED, MigrationPhase.ABORTED, MigrationPhase.ROLLED_BACK);

    private final RebalanceTopology.Settings settings;
    private ProcessorContext<String, SpecificRecord> context;
    private KeyValueStore<String, ShardStats> shardSizes;
    private KeyValueStore<String, ChunkStats> chunkSizes;
    private KeyValueStore<String, BalancerShardState> shardStates;
    private KeyValueStore<String, ChunkNote> chunkNotes;
    private KeyValueStore<String, MigrationState> migrations;
    private KeyValueStore<String, Long> clock;
    private ReadOnlyKeyValueStore<String, ValueAndTimestamp<ShardDescriptor>> descriptors;
    private ReadOnlyKeyValueStore<String, ValueAndTimestamp<NamespaceConfig>> configs;
    private ReadOnlyKeyValueStore<String, ValueAndTimestamp<ChunkRoute>> routes;
    private ReadOnlyKeyValueStore<String, ValueAndTimestamp<KeySample>> samples;

    public Balancer(RebalanceTopology.Settings settings) {
        this.settings = settings;
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
        this.context = context;
        shardSizes = context.getStateStore(RebalanceTopology.SHARD_SIZES_STORE);
        chunkSizes = context.getStateStore(RebalanceTopology.CHUNK_SIZES_STORE);
        shardStates = context.getStateStore(RebalanceTopology.SHARD_STATE_STORE);
        chunkNotes = context.getStateStore(RebalanceTopology.CHUNK_NOTES_STORE);
        migrations = context.getStateStore(RebalanceTopology.MIGRATIONS_STORE);
        clock = context.getStateStore(RebalanceTopology.CLOCK_STORE);
        descriptors = context.getStateStore(ShardSizeTopology.SHARDS_STORE);
        configs = context.getStateStore(ShardSizeTopology.CONFIGS_STORE);
        routes = context.getStateStore(ShardSizeTopology.ROUTES_STORE);
        samples = context.getStateStore(RebalanceTopology.KEY_SAMPLES_STORE);
        context.schedule(settings.decisionWindow(), PunctuationType.WALL_CLOCK_TIME, this::decide);
    }

    @Override
    public void process(Record<String, BalancerInput> record) {
        BalancerInput input = record.value();
        if (input instanceof BalancerInput.Size size) {
            shardSizes.put(size.stats().getShardId(), size.stats());
        } else if (input instanceof BalancerInput.ChunkSize chunk) {
            chunkSizes.put(TopicCatalog.routingKey(chunk.stats().getNamespace(), hex(chunk.stats().getChunkMin())), chunk.stats());
        } else if (input instanceof BalancerInput.Load load) {
            addLoad(load.sample());
        } else if (input instanceof BalancerInput.Migration migration) {
            track(migration.state());
        }
    }

    private void addLoad(QueryLoadSample sample) {
        if (sample.getNamespace() == null || sample.getChunkMin() == null) {
            BalancerShardState state = stateOf(sample.getShardId());
            state.setWindowReads(state.getWindowReads() + sample.getReads());
            state.setWindowWrites(state.getWindowWrites() + sample.getWrites());
            shardStates.put(sample.getShardId(), state);
        } else {
            String key = TopicCatalog.routingKey(sample.getNamespace(), hex(sample.getChunkMin()));
            ChunkNote note = noteOf(key);
            note.setWindowReads(note.getWindowReads() + sample.getReads());
            note.setWindowWrites(note.getWindowWrites() + sample.getWrites());
            chunkNotes.put(key, note);
        }
    }

    private void track(MigrationState migration) {
        if (!ENDED.contains(migration.getPhase())) {
            migrations.put(migration.getMigrationId(), migration);
            return;
        }
        migrations.delete(migration.getMigrationId());
        List<KeyValue<String, BalancerShardState>> freed = new ArrayList<>();
        try (KeyValueIterator<String, BalancerShardState> all = shardStates.all()) {
            all.forEachRemaining(entry -> {
                if (migration.getCommandId().equals(entry.value.getPendingCommandId())) {
                    freed.add(entry);
                }
            });
        }
        freed.forEach(entry -> {
            entry.value.setPendingCommandId(null);
            entry.value.setPendingUntilMillis(0);
            shardStates.put(entry.key, entry.value);
        });
    }

    // ---------------------------------------------------------------- decisions

    /** One shard as seen at the close of a window. */
    private record ShardView(String id, ShardDescriptor descriptor, BalancerShardState state, long bytes, long documents,
                             double storageRatio, double loadRatio, boolean hasStats, List<ChunkView> chunks, Thresholds thresholds) {
        double utilization() {
            return Math.max(storageRatio, loadRatio);
        }

        boolean overSplit() {
            return storageRatio > thresholds.getSplitStorageRatio() || loadRatio > thresholds.getSplitLoadRatio();
        }

        boolean underMerge() {
            return hasStats && state.getFilled() && storageRatio < thresholds.getMergeRatio() && loadRatio < thresholds.getMergeRatio();
        }
    }

    /** One chunk of a shard. */
    private record ChunkView(ChunkRoute route, String key, String minHex, String maxHex, long documents, long bytes, double opsPerSec) {
    }

    void decide(long now) {
        Long last = clock.get(LAST_WINDOW_END);
        long windowMillis = last == null ? settings.decisionWindow().toMillis() : Math.max(1, now - last);
        clock.put(LAST_WINDOW_END, now);
        closeChunkWindows(windowMillis);

        Map<String, List<ChunkView>> chunksByShard = chunksByShard();
        Map<String, ShardView> shards = new LinkedHashMap<>();
        try (KeyValueIterator<String, ValueAndTimestamp<ShardDescriptor>> all = descriptors.all()) {
            all.forEachRemaining(entry -> {
                if (entry.value != null) {
                    shards.put(entry.key, view(entry.value.value(), chunksByShard.getOrDefault(entry.key, List.of()), windowMillis));
                }
            });
        }
        for (ShardView shard : shards.values()) {
            BalancerShardState state = shard.state();
            boolean active = shard.descriptor().getState() == ShardState.ACTIVE;
            if (shard.hasStats() && Math.max(shard.storageRatio(), shard.loadRatio()) >= shard.thresholds().getMergeRatio()) {
                state.setFilled(true);
            }
            state.setSplitStreak(active && shard.overSplit() ? state.getSplitStreak() + 1 : 0);
            state.setMergeStreak(active && shard.underMerge() ? state.getMergeStreak() + 1 : 0);
        }

        Set<String> busy = new HashSet<>();
        Set<String> inFlight = new HashSet<>();
        try (KeyValueIterator<String, MigrationState> all = migrations.all()) {
            all.forEachRemaining(entry -> {
                busy.add(entry.value.getSourceShardId());
                busy.add(entry.value.getTargetShardId());
                inFlight.add(entry.value.getCommandId());
            });
        }
        for (ShardView shard : shards.values()) {
            if (shard.state().getPendingCommandId() != null && shard.state().getPendingUntilMillis() > now) {
                busy.add(shard.id());
                inFlight.add(shard.state().getPendingCommandId());
            }
        }

        List<ShardView> overloaded = shards.values().stream()
            .filter(shard -> shard.state().getSplitStreak() >= shard.thresholds().getSustainedWindows())
            .sorted(Comparator.comparingDouble(Balancer::severity).reversed())
            .toList();
        for (ShardView shard : overloaded) {
            if (inFlight.size() >= settings.maxConcurrentMigrations()) {
                break;
            }
            if (!free(shard, busy, now)) {
                continue;
            }
            String commandId = split(shard, shards.values(), busy, now);
            if (commandId != null) {
                inFlight.add(commandId);
            }
        }
        List<ShardView> idle = shards.values().stream()
            .filter(shard -> shard.state().getMergeStreak() >= shard.thresholds().getSustainedWindows() && !shard.chunks().isEmpty())
            .sorted(Comparator.comparingDouble(ShardView::utilization))
            .toList();
        for (ShardView shard : idle) {
            long activeShards = shards.values().stream().filter(s -> s.descriptor().getState() == ShardState.ACTIVE).count();
            if (inFlight.size() >= settings.maxConcurrentMigrations() || activeShards <= settings.minActiveShards()) {
                break;
            }
            if (!free(shard, busy, now) || hasYoungLoadSplitChunk(shard, now)) {
                continue;
            }
            String commandId = merge(shard, shards.values(), busy, now);
            if (commandId != null) {
                inFlight.add(commandId);
                shards.get(shard.id()).descriptor().setState(ShardState.DRAINING);
            }
        }
        shards.values().forEach(shard -> shardStates.put(shard.id(), shard.state()));
        publishTables(shards.values(), now);
    }

    /** The window's table of every shard and chunk, for readers of the stats topics. */
    private void publishTables(Iterable<ShardView> shards, long now) {
        for (ShardView shard : shards) {
            ShardStats size = shardSizes.get(shard.id());
            ShardStats stats = ShardStats.newBuilder().setShardId(shard.id()).setDocumentCount(shard.documents()).setDataBytes(shard.bytes())
                .setWrites(size == null ? 0 : size.getWrites()).setReadsPerSec(shard.state().getReadsPerSec())
                .setWritesPerSec(shard.state().getWritesPerSec()).setStorageRatio(shard.storageRatio()).setLoadRatio(shard.loadRatio())
                .setSource(size == null ? io.shardline.schemas.avro.StatsSource.CDC : size.getSource()).setUpdatedAt(Instant.ofEpochMilli(now)).build();
            context.forward(new Record<>(shard.id(), stats, now));
            for (ChunkView chunk : shard.chunks()) {
                ChunkNote note = noteOf(chunk.key());
                ChunkStats chunkSize = chunkSizes.get(chunk.key());
                ChunkStats table = ChunkStats.newBuilder().setNamespace(chunk.route().getNamespace()).setChunkMin(chunk.route().getMin())
                    .setChunkMax(chunk.route().getMax()).setShardId(shard.id()).setDocumentCount(chunk.documents()).setDataBytes(chunk.bytes())
                    .setWrites(chunkSize == null ? 0 : chunkSize.getWrites()).setReadsPerSec(note.getReadsPerSec()).setWritesPerSec(note.getWritesPerSec())
                    .setUpdatedAt(Instant.ofEpochMilli(now)).build();
                context.forward(new Record<>(chunk.key(), table, now));
            }
        }
    }

    private static double severity(ShardView shard) {
        return Math.max(shard.storageRatio() / shard.thresholds().getSplitStorageRatio(),
            shard.loadRatio() / shard.thresholds().getSplitLoadRatio());
    }

    private boolean free(ShardView shard, Set<String> busy, long now) {
        return shard.descriptor().getState() == ShardState.ACTIVE && !busy.contains(shard.id())
            && shard.state().getCooldownUntilMillis() <= now;
    }

    private String split(ShardView shard, Iterable<ShardView> all, Set<String> busy, long now) {
        boolean byLoad = shard.storageRatio() <= shard.thresholds().getSplitStorageRatio();
        ShardView target = null;
        for (ShardView candidate : all) {
            if (candidate != shard && free(candidate, busy, now) && !candidate.overSplit()
                && (target == null || candidate.utilization() < target.utilization())) {
                target = candidate;
            }
        }
        if (target == null) {
            return null;
        }
        List<ChunkView> chunks = new ArrayList<>(shard.chunks());
        chunks.sort(byLoad ? Comparator.comparingDouble(ChunkView::opsPerSec).reversed() : Comparator.comparingLong(ChunkView::bytes).reversed());
        for (ChunkView chunk : chunks) {
            ChunkNote note = noteOf(chunk.key());
            if (note.getUnsplittableAtVersion() != null && note.getUnsplittableAtVersion() == chunk.route().getVersion()) {
                continue;
            }
            SplitPoint point = SplitPoint.find(samples, chunk.route().getNamespace(), chunk.minHex(), chunk.maxHex(), shard.id(), byLoad);
            if (point.unsplittable()) {
                note.setUnsplittableAtVersion(chunk.route().getVersion());
                chunkNotes.put(chunk.key(), note);
                Map<String, Double> figures = figures(shard, chunk);
                figures.put("sampledDocuments", (double) point.samples());
                emitEvent(ShardEventType.CHUNK_UNSPLITTABLE, shard.id(), chunk.route().getNamespace(), null, now,
                    "chunk [" + chunk.minHex() + ", " + (chunk.maxHex() == null ? "+inf" : chunk.maxHex()) + ") of " + shard.id()
                        + " holds a single shard key and cannot be split", figures);
                continue;
            }
            if (!point.splittable()) {
                return null; // not sampled yet: decide in a later window, with data
            }
            if (byLoad) {
                note.setLoadSplitAtMillis(now);
                chunkNotes.put(chunk.key(), note);
            }
            String commandId = UUID.randomUUID().toString();
            String reason = (byLoad ? "query load " + percent(shard.loadRatio()) + " over " + percent(shard.thresholds().getSplitLoadRatio())
                : "storage " + percent(shard.storageRatio()) + " over " + percent(shard.thresholds().getSplitStorageRatio()))
                + " of capacity for " + shard.state().getSplitStreak() + " windows: split the " + (byLoad ? "busiest" : "biggest")
                + " chunk at its " + (byLoad ? "write-load" : "document") + " median and move the upper half to " + target.id();
            SplitShard command = SplitShard.newBuilder().setShardId(shard.id()).setNamespace(chunk.route().getNamespace())
                .setChunkMin(chunk.route().getMin()).setSplitKey(ByteBuffer.wrap(HexFormat.of().parseHex(point.splitKeyHex())))
                .setTargetShardId(target.id()).setByLoad(byLoad).build();
            Map<String, Double> figures = figures(shard, chunk);
            figures.put("targetStorageRatio", target.storageRatio());
            figures.put("targetLoadRatio", target.loadRatio());
            figures.put("sampledDocuments", (double) point.samples());
            figures.put("fractionBelowSplitKey", point.fractionBelow());
            decided(command, commandId, reason, ShardEventType.SPLIT_DECIDED, shard, target, chunk.route().getNamespace(), figures, busy, now);
            return commandId;
        }
        if (chunks.size() >= 2) {
            // Every candidate is one hot key: relieve the shard by moving away the next chunk instead.
            ChunkView move = chunks.get(1);
            String commandId = UUID.randomUUID().toString();
            MoveChunk command = MoveChunk.newBuilder().setNamespace(move.route().getNamespace()).setChunkMin(move.route().getMin())
                .setTargetShardId(target.id()).build();
            String reason = shard.id() + " is over its split thresholds and its top chunk cannot be split: move the next chunk to " + target.id();
            decided(command, commandId, reason, ShardEventType.MOVE_DECIDED, shard, target, move.route().getNamespace(),
                figures(shard, move), busy, now);
            return commandId;
        }
        return null;
    }

    private String merge(ShardView shard, Iterable<ShardView> all, Set<String> busy, long now) {
        ShardView target = null;
        double best = Double.MAX_VALUE;
        double bestStorage = 0;
        double bestLoad = 0;
        for (ShardView candidate : all) {
            if (candidate == shard || !free(candidate, busy, now) || candidate.descriptor().getCapacityBytes() <= 0
                || candidate.descriptor().getCapacityOpsPerSec() <= 0) {
                continue;
            }
            Thresholds limits = strictest(List.of(shard.thresholds(), candidate.thresholds()));
            double storageAfter = (double) (candidate.bytes() + shard.bytes()) / candidate.descriptor().getCapacityBytes();
            double loadAfter = (candidate.state().getOpsPerSec() + shard.state().getOpsPerSec()) / candidate.descriptor().getCapacityOpsPerSec();
            if (storageAfter < limits.getSplitStorageRatio() / 2 && loadAfter < limits.getSplitLoadRatio() / 2
                && Math.max(storageAfter, loadAfter) < best) {
                target = candidate;
                best = Math.max(storageAfter, loadAfter);
                bestStorage = storageAfter;
                bestLoad = loadAfter;
            }
        }
        if (target == null) {
            return null;
        }
        String commandId = UUID.randomUUID().toString();
        MergeShards command = MergeShards.newBuilder().setSourceShardId(shard.id()).setTargetShardId(target.id()).build();
        String reason = "storage " + percent(shard.storageRatio()) + " and load " + percent(shard.loadRatio()) + " under "
            + percent(shard.thresholds().getMergeRatio()) + " for " + shard.state().getMergeStreak() + " windows: merge into "
            + target.id() + ", which stays at " + percent(bestStorage) + " storage and " + percent(bestLoad) + " load";
        Map<String, Double> figures = figures(shard, null);
        figures.put("targetStorageRatioAfter", bestStorage);
        figures.put("targetLoadRatioAfter", bestLoad);
        decided(command, commandId, reason, ShardEventType.MERGE_DECIDED, shard, target, null, figures, busy, now);
        return commandId;
    }

    private void decided(SpecificRecord command, String commandId, String reason, ShardEventType type, ShardView source, ShardView target,
                         String namespace, Map<String, Double> figures, Set<String> busy, long now) {
        ShardCommand envelope = ShardCommand.newBuilder().setCommandId(commandId).setIssuer(settings.issuer())
            .setTimestamp(Instant.ofEpochMilli(now)).setReason(reason).setCommand(command).build();
        context.forward(new Record<>(source.id(), envelope, now));
        emitEvent(type, source.id(), namespace, commandId, now, reason, figures);
        for (ShardView shard : List.of(source, target)) {
            shard.state().setCooldownUntilMillis(now + settings.shardCooldown().toMillis());
            shard.state().setPendingCommandId(commandId);
            shard.state().setPendingUntilMillis(now + settings.commandTimeout().toMillis());
            busy.add(shard.id());
        }
        source.state().setSplitStreak(0);
        source.state().setMergeStreak(0);
    }

    private void emitEvent(ShardEventType type, String shardId, String namespace, String commandId, long now, String reason,
                           Map<String, Double> figures) {
        ShardEvent event = ShardEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setType(type)
            .setTimestamp(Instant.ofEpochMilli(now)).setSource("controller").setShardId(shardId).setNamespace(namespace)
            .setCommandId(commandId).setIssuer(settings.issuer()).setReason(reason).setFigures(new HashMap<>(figures)).build();
        context.forward(new Record<>(shardId, event, now));
    }

    private static Map<String, Double> figures(ShardView shard, ChunkView chunk) {
        Map<String, Double> figures = new HashMap<>();
        figures.put("storageRatio", shard.storageRatio());
        figures.put("loadRatio", shard.loadRatio());
        figures.put("dataBytes", (double) shard.bytes());
        figures.put("documents", (double) shard.documents());
        figures.put("opsPerSec", shard.state().getOpsPerSec());
        figures.put("splitStorageRatio", shard.thresholds().getSplitStorageRatio());
        figures.put("splitLoadRatio", shard.thresholds().getSplitLoadRatio());
        figures.put("mergeRatio", shard.thresholds().getMergeRatio());
        figures.put("sustainedWindows", (double) shard.thresholds().getSustainedWindows());
        if (chunk != null) {
            figures.put("chunkDocuments", (double) chunk.documents());
            figures.put("chunkBytes", (double) chunk.bytes());
            figures.put("chunkOpsPerSec", chunk.opsPerSec());
        }
        return figures;
    }

    private boolean hasYoungLoadSplitChunk(ShardView shard, long now) {
        for (ChunkView chunk : shard.chunks()) {
            Instant routed = chunk.route().getSplitByLoadAt();
            Long noted = noteOf(chunk.key()).getLoadSplitAtMillis();
            long splitAt = Math.max(routed == null ? Long.MIN_VALUE : routed.toEpochMilli(), noted == null ? Long.MIN_VALUE : noted);
            if (splitAt != Long.MIN_VALUE && now - splitAt < shard.thresholds().getMinChunkAgeMillis()) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- views

    private ShardView view(ShardDescriptor descriptor, List<ChunkView> chunks, long windowMillis) {
        BalancerShardState state = stateOf(descriptor.getShardId());
        ShardStats size = shardSizes.get(descriptor.getShardId());
        long cdcWrites = size == null ? 0 : size.getWrites();
        Rates rates = Rates.of(state.getWindowReads(), state.getWindowWrites(), state.getLastCdcWrites(), cdcWrites, windowMillis);
        state.setLastCdcWrites(cdcWrites);
        state.setReadsPerSec(rates.reads());
        state.setWritesPerSec(rates.writes());
        state.setOpsPerSec(rates.reads() + rates.writes());
        state.setWindowReads(0L);
        state.setWindowWrites(0L);
        long bytes = size == null ? 0 : size.getDataBytes();
        double storage = descriptor.getCapacityBytes() <= 0 ? 0 : (double) bytes / descriptor.getCapacityBytes();
        double load = descriptor.getCapacityOpsPerSec() <= 0 ? 0 : state.getOpsPerSec() / descriptor.getCapacityOpsPerSec();
        List<Thresholds> limits = new ArrayList<>();
        for (ChunkView chunk : chunks) {
            ValueAndTimestamp<NamespaceConfig> config = configs.get(chunk.route().getNamespace());
            if (config != null) {
                limits.add(config.value().getThresholds());
            }
        }
        return new ShardView(descriptor.getShardId(), ShardDescriptor.newBuilder(descriptor).build(), state, bytes,
            size == null ? 0 : size.getDocumentCount(), storage, load, size != null, chunks,
            strictest(limits));
    }

    /**
     * The thresholds a shard answers to: of the namespaces it holds, the lowest split and merge ratios, the most
     * sustained windows and the longest minimum chunk age; the defaults when it holds no configured namespace.
     */
    static Thresholds strictest(List<Thresholds> limits) {
        Thresholds result = Thresholds.newBuilder().build();
        boolean first = true;
        for (Thresholds t : limits) {
            if (first) {
                result = Thresholds.newBuilder(t).build();
                first = false;
                continue;
            }
            result.setSplitStorageRatio(Math.min(result.getSplitStorageRatio(), t.getSplitStorageRatio()));
            result.setSplitLoadRatio(Math.min(result.getSplitLoadRatio(), t.getSplitLoadRatio()));
            result.setMergeRatio(Math.min(result.getMergeRatio(), t.getMergeRatio()));
            result.setSustainedWindows(Math.max(result.getSustainedWindows(), t.getSustainedWindows()));
            result.setMinChunkAgeMillis(Math.max(result.getMinChunkAgeMillis(), t.getMinChunkAgeMillis()));
        }
        return result;
    }

    private Map<String, List<ChunkView>> chunksByShard() {
        Map<String, List<ChunkView>> byShard = new HashMap<>();
        try (KeyValueIterator<String, ValueAndTimestamp<ChunkRoute>> all = routes.all()) {
            all.forEachRemaining(entry -> {
                if (entry.value == null) {
                    return;
                }
                ChunkRoute route = entry.value.value();
                String minHex = hex(route.getMin());
                String key = TopicCatalog.routingKey(route.getNamespace(), minHex);
                ChunkStats size = chunkSizes.get(key);
                ChunkNote note = chunkNotes.get(key);
                byShard.computeIfAbsent(route.getShardId(), id -> new ArrayList<>()).add(new ChunkView(route, key, minHex,
                    route.getMax() == null ? null : hex(route.getMax()),
                    size == null || !route.getShardId().equals(size.getShardId()) ? 0 : size.getDocumentCount(),
                    size == null || !route.getShardId().equals(size.getShardId()) ? 0 : size.getDataBytes(),
                    note == null ? 0 : note.getOpsPerSec()));
            });
        }
        return byShard;
    }

    /** Closes every chunk's load window: reads from the routers, writes from the routers or CDC, whichever saw more. */
    private void closeChunkWindows(long windowMillis) {
        Set<String> keys = new java.util.TreeSet<>();
        try (KeyValueIterator<String, ChunkNote> all = chunkNotes.all()) {
            all.forEachRemaining(entry -> keys.add(entry.key));
        }
        try (KeyValueIterator<String, ChunkStats> all = chunkSizes.all()) {
            all.forEachRemaining(entry -> keys.add(entry.key));
        }
        for (String key : keys) {
            ChunkNote note = noteOf(key);
            ChunkStats size = chunkSizes.get(key);
            long cdcWrites = size == null ? 0 : size.getWrites();
            Rates rates = Rates.of(note.getWindowReads(), note.getWindowWrites(), note.getLastCdcWrites(), cdcWrites, windowMillis);
            note.setLastCdcWrites(cdcWrites);
            note.setReadsPerSec(rates.reads());
            note.setWritesPerSec(rates.writes());
            note.setOpsPerSec(rates.reads() + rates.writes());
            note.setWindowReads(0L);
            note.setWindowWrites(0L);
            chunkNotes.put(key, note);
        }
    }

    /** Reads and writes per second of a closed window. */
    private record Rates(double reads, double writes) {
        /**
         * Writes are what routers reported or what the CDC write counter grew by, whichever is more (writes that
         * bypass the routers load the shard too); a counter seen for the first time ({@code lastCdcWrites < 0}) only
         * sets the baseline.
         */
        static Rates of(long windowReads, long windowWrites, long lastCdcWrites, long cdcWrites, long windowMillis) {
            double seconds = windowMillis / 1000.0;
            double cdcRate = lastCdcWrites < 0 ? 0 : Math.max(0, cdcWrites - lastCdcWrites) / seconds;
            return new Rates(windowReads / seconds, Math.max(windowWrites / seconds, cdcRate));
        }
    }

    private BalancerShardState stateOf(String shardId) {
        BalancerShardState state = shardStates.get(shardId);
        return state == null ? BalancerShardState.newBuilder().build() : state;
    }

    private ChunkNote noteOf(String key) {
        ChunkNote note = chunkNotes.get(key);
        return note == null ? ChunkNote.newBuilder().build() : note;
    }

    private static String percent(double ratio) {
        return Math.round(ratio * 1000) / 10.0 + "%";
    }

    private static String hex(ByteBuffer bytes) {
        ByteBuffer copy = bytes.duplicate();
        byte[] raw = new byte[copy.remaining()];
        copy.get(raw);
        return HexFormat.of().formatHex(raw);
    }
}
