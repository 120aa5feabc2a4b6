package io.shardline.cli.demo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.MigrationPhases;
import io.shardline.controlplane.TopicTable;
import io.shardline.controlplane.TopicTail;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardStats;

/**
 * The control plane as an operator sees it, kept up to date by one thread: shards, the controller's per-shard stats,
 * the routing table, every migration with the time it entered each phase, and every event. Readers take a
 * {@link Snapshot}; a listener hears each event and migration step as it is read.
 */
public final class ClusterWatch implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterWatch.class);

    /** A migration's latest state and when (epoch millis, as written) it entered each phase. */
    public record Migration(MigrationState state, Map<MigrationPhase, Long> entered) {
        public boolean ended() {
            return MigrationPhases.ended(state);
        }
    }

    /** Everything read so far. */
    public record Snapshot(Map<String, ShardDescriptor> shards, Map<String, ShardStats> stats, List<ChunkRoute> routing,
                           Map<String, Migration> migrations, List<ShardEvent> events) {
        public long chunksOf(String shard) {
            return routing.stream().filter(route -> route.getShardId().equals(shard)).count();
        }

        public long eventsOf(io.shardline.schemas.avro.ShardEventType type) {
            return events.stream().filter(event -> event.getType() == type).count();
        }
    }

    /** Hears what the watch reads, on the watch's thread. */
    public interface Listener {
        void event(ShardEvent event);

        void migrationStep(MigrationState state);
    }

    private final TopicTable<ShardDescriptor> shards;
    private final TopicTable<ShardStats> stats;
    private final TopicTable<ChunkRoute> routing;
    private final TopicTail<MigrationState> migrationLog;
    private final TopicTail<ShardEvent> eventLog;
    private final Map<String, Migration> migrations = new LinkedHashMap<>();
    private final List<ShardEvent> events = new ArrayList<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Listener listener;

    public ClusterWatch(String bootstrapServers, TopicCatalog catalog, Duration interval) {
        this.shards = new TopicTable<>(bootstrapServers, catalog.shards(), catalog.controlDlq().name(), "demo").keepingNewest(ShardDescriptor::getVersion);
        this.stats = new TopicTable<>(bootstrapServers, catalog.stats(), catalog.controlDlq().name(), "demo");
        this.routing = new TopicTable<>(bootstrapServers, catalog.routing(), catalog.controlDlq().name(), "demo");
        this.migrationLog = new TopicTail<>(bootstrapServers, catalog.migrations(), true, catalog.controlDlq().name(), "demo");
        this.eventLog = new TopicTail<>(bootstrapServers, catalog.events(), true, catalog.controlDlq().name(), "demo");
        this.thread = new Thread(() -> loop(interval), "cluster-watch");
        thread.setDaemon(true);
    }

    public ClusterWatch start(Listener listener) {
        this.listener = listener;
        refresh();
        thread.start();
        return this;
    }

    private void loop(Duration interval) {
        while (running) {
            try {
                refresh();
                Thread.sleep(interval.toMillis());
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warn("reading the control plane failed, retrying: {}", e.getMessage());
            }
        }
    }

    /** Reads what was written since the last refresh. */
    public synchronized void refresh() {
        shards.refresh();
        stats.refresh();
        routing.refresh();
        for (TopicTail.Appended<MigrationState> step : migrationLog.readToEnd()) {
            MigrationState state = step.value();
            Migration previous = migrations.get(state.getMigrationId());
            Map<MigrationPhase, Long> entered = previous == null ? new EnumMap<>(MigrationPhase.class) : previous.entered();
            entered.putIfAbsent(state.getPhase(), state.getUpdatedAt().toEpochMilli());
            migrations.put(state.getMigrationId(), new Migration(state, entered));
            notify(l -> l.migrationStep(state));
        }
        for (TopicTail.Appended<ShardEvent> event : eventLog.readToEnd()) {
            events.add(event.value());
            notify(l -> l.event(event.value()));
        }
    }

    private void notify(Consumer<Listener> call) {
        Listener current = listener;
        if (current != null) {
            try {
                call.accept(current);
            } catch (RuntimeException e) {
                LOG.warn("a listener of the control plane failed: {}", e.getMessage());
            }
        }
    }

    public synchronized Snapshot snapshot() {
        Map<String, Migration> copies = new LinkedHashMap<>();
        migrations.forEach((id, migration) -> copies.put(id, new Migration(migration.state(), new EnumMap<>(migration.entered()))));
        return new Snapshot(new TreeMap<>(shards.values()), new TreeMap<>(stats.values()), new ArrayList<>(routing.values().values()),
            copies, new ArrayList<>(events));
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.interrupt();
        thread.join(10_000);
        synchronized (this) {
            shards.close();
            stats.close();
            routing.close();
            migrationLog.close();
            eventLog.close();
        }
    }
}
