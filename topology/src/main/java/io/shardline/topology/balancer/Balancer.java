package io.shardline.topology.balancer;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;

import io.shardline.core.key.KeyHex;
import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkStats;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.QueryLoadSample;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.schemas.avro.StatsSource;
import io.shardline.topology.balancer.policy.ChunkView;
import io.shardline.topology.balancer.policy.Decision;
import io.shardline.topology.balancer.policy.MergePolicy;
import io.shardline.topology.balancer.policy.MovePolicy;
import io.shardline.topology.balancer.policy.Planner;
import io.shardline.topology.balancer.policy.ShardView;
import io.shardline.topology.balancer.policy.SplitPolicy;
import io.shardline.topology.internal.avro.BalancerShardState;
import io.shardline.topology.internal.avro.ChunkNote;

/**
 * The balancer's processor: folds sizes, load samples and migrations into its stores as they come; once per decision
 * window (wall-clock punctuation) closes the window into a snapshot ({@link WindowCloser}), lets the policies decide on
 * it ({@link Planner}), and publishes each decision as a {@link ShardCommand} (keyed by the source shard) and a
 * {@link ShardEvent}, then the window's tables of every shard ({@link ShardStats}) and chunk ({@link ChunkStats}).
 */
public final class Balancer implements Processor<String, BalancerInput, String, SpecificRecord> {

    private final BalancerSettings settings;
    private final DecisionRecords records;
    private ProcessorContext<String, SpecificRecord> context;
    private BalancerStores stores;
    private WindowCloser closer;
    private Planner planner;
    /** Each chunk's table row as last published, by routing key; empty after a start, so every row goes out once. */
    private final Map<String, Published> publishedChunks = new java.util.HashMap<>();
    private long windows;

    /** A row as published, and the window that last saw its chunk. */
    private static final class Published {
        ChunkWindows.Row row;
        long window;
    }

    public Balancer(BalancerSettings settings) {
        this.settings = settings;
        this.records = new DecisionRecords(settings.issuer());
    }

    @Override
    public void init(ProcessorContext<String, SpecificRecord> context) {
        this.context = context;
        stores = new BalancerStores(context);
        closer = new WindowCloser(stores, settings.decisionWindow().toMillis());
        planner = new Planner(settings.maxConcurrentMigrations(),
            new SplitPolicy(new KeySampleSplitPoints(stores.samples), new MovePolicy()),
            new MergePolicy(settings.minActiveShards(), settings.mergeHeadroom()));
        context.schedule(settings.decisionWindow(), PunctuationType.WALL_CLOCK_TIME, this::decide);
    }

    // ---------------------------------------------------------------- folding input

    @Override
    public void process(Record<String, BalancerInput> record) {
        BalancerInput input = record.value();
        if (input instanceof BalancerInput.Size size) {
            stores.shardSizes.put(size.stats().getShardId(), size.stats());
        } else if (input instanceof BalancerInput.ChunkSize chunk) {
            stores.chunkSizes.put(TopicCatalog.routingKey(chunk.stats().getNamespace(), KeyHex.of(chunk.stats().getChunkMin())), chunk.stats());
        } else if (input instanceof BalancerInput.Load load) {
            addLoad(load.sample());
        } else if (input instanceof BalancerInput.Migration migration) {
            track(migration.state());
        }
    }

    private void addLoad(QueryLoadSample sample) {
        if (sample.getNamespace() == null || sample.getChunkMin() == null) {
            BalancerShardState state = stores.stateOf(sample.getShardId());
            state.setWindowReads(state.getWindowReads() + sample.getReads());
            state.setWindowWrites(state.getWindowWrites() + sample.getWrites());
            stores.shardStates.put(sample.getShardId(), state);
        } else {
            String key = TopicCatalog.routingKey(sample.getNamespace(), KeyHex.of(sample.getChunkMin()));
            ChunkNote note = stores.noteOf(key);
            note.setWindowReads(note.getWindowReads() + sample.getReads());
            note.setWindowWrites(note.getWindowWrites() + sample.getWrites());
            stores.chunkNotes.put(key, note);
        }
    }

    /** Keeps migrations not yet ended; an ended one frees the shards of the command it carried out. */
    private void track(MigrationState migration) {
        if (!MigrationPhases.ended(migration)) {
            stores.migrations.put(migration.getMigrationId(), migration);
            return;
        }
        stores.migrations.delete(migration.getMigrationId());
        List<KeyValue<String, BalancerShardState>> freed = new ArrayList<>();
        try (KeyValueIterator<String, BalancerShardState> all = stores.shardStates.all()) {
            all.forEachRemaining(entry -> {
                if (migration.getCommandId().equals(entry.value.getPendingCommandId())) {
                    freed.add(entry);
                }
            });
        }
        freed.forEach(entry -> {
            entry.value.setPendingCommandId(null);
            entry.value.setPendingUntilMillis(0);
            stores.shardStates.put(entry.key, entry.value);
        });
    }

    // ---------------------------------------------------------------- deciding

    void decide(long now) {
        WindowCloser.ClosedWindow window = closer.close(now);
        for (Decision decision : planner.plan(window.snapshot())) {
            apply(decision, window.states(), now);
        }
        window.states().forEach(stores.shardStates::put);
        publishTables(window.snapshot().shards(), window.states(), window.chunkRows(), now);
    }

    /** Publishes a decision and records what it changes: marks on its chunk, and cooldown and pending command on its shards. */
    private void apply(Decision decision, Map<String, BalancerShardState> states, long now) {
        if (decision instanceof Decision.Unsplittable unsplittable) {
            ChunkView chunk = unsplittable.chunk();
            ChunkNote note = stores.noteOf(chunk.key());
            note.setUnsplittableAtVersion(chunk.route().getVersion());
            stores.chunkNotes.put(chunk.key(), note);
            context.forward(new Record<>(decision.source().id(), records.event(decision, null, now), now));
            return;
        }
        Decision.Command command = (Decision.Command) decision;
        if (decision instanceof Decision.Split split && split.byLoad()) {
            ChunkNote note = stores.noteOf(split.chunk().key());
            note.setLoadSplitAtMillis(now);
            stores.chunkNotes.put(split.chunk().key(), note);
        }
        String commandId = UUID.randomUUID().toString();
        context.forward(new Record<>(command.source().id(), records.command(command, commandId, now), now));
        context.forward(new Record<>(command.source().id(), records.event(command, commandId, now), now));
        for (ShardView shard : List.of(command.source(), command.target())) {
            BalancerShardState state = states.get(shard.id());
            state.setCooldownUntilMillis(now + settings.shardCooldown().toMillis());
            state.setPendingCommandId(commandId);
            state.setPendingUntilMillis(now + settings.commandTimeout().toMillis());
        }
        BalancerShardState source = states.get(command.source().id());
        source.setSplitStreak(0);
        source.setMergeStreak(0);
    }

    /**
     * The window's table of every shard, and of every chunk whose figures changed since they were last published (the
     * chunk-stats topic is compacted: a chunk's last row stands until it changes), for readers of the stats topics.
     */
    private void publishTables(List<ShardView> shards, Map<String, BalancerShardState> states, Map<String, ChunkWindows.Row> rows, long now) {
        long window = ++windows;
        int seen = 0;
        Instant at = Instant.ofEpochMilli(now);
        for (ShardView shard : shards) {
            ShardStats size = stores.shardSizes.get(shard.id());
            BalancerShardState state = states.get(shard.id());
            ShardStats stats = ShardStats.newBuilder().setShardId(shard.id()).setDocumentCount(shard.documents()).setDataBytes(shard.bytes())
                .setWrites(size == null ? 0 : size.getWrites()).setReadsPerSec(state.getReadsPerSec()).setWritesPerSec(state.getWritesPerSec())
                .setStorageRatio(shard.storageRatio()).setLoadRatio(shard.loadRatio())
                .setSource(size == null ? StatsSource.CDC : size.getSource()).setUpdatedAt(at).build();
            context.forward(new Record<>(shard.id(), stats, now));
            for (ChunkView chunk : shard.chunks()) {
                ChunkWindows.Row row = rows.get(chunk.key());
                if (row == null) {
                    continue;
                }
                seen++;
                Published published = publishedChunks.computeIfAbsent(chunk.key(), key -> new Published());
                published.window = window;
                if (!row.equals(published.row)) {
                    published.row = row;
                    context.forward(new Record<>(chunk.key(), row.stats(at), now));
                }
            }
        }
        if (publishedChunks.size() > seen) {
            publishedChunks.values().removeIf(published -> published.window != window);
        }
    }
}
