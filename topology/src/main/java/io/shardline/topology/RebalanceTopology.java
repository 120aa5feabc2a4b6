package io.shardline.topology;

import java.util.Map;
import java.util.Objects;

import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;

import io.shardline.schemas.Topic;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkStats;
import io.shardline.schemas.avro.KeySample;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.QueryLoadSample;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.topology.balancer.Balancer;
import io.shardline.topology.balancer.BalancerInput;
import io.shardline.topology.balancer.BalancerSettings;
import io.shardline.topology.internal.AvroBinarySerde;
import io.shardline.topology.internal.GlobalTables;
import io.shardline.topology.internal.avro.BalancerShardState;
import io.shardline.topology.internal.avro.ChunkNote;
import io.shardline.topology.stores.StoreNames;

/**
 * Automatic split and merge decisions. Once per decision window the balancer closes the window's query load (from the
 * routers' samples) and relates each shard's size (from the stats topic) and load to its capacity, against the
 * thresholds of the namespaces it holds. A shard over the split thresholds for the sustained number of consecutive
 * windows gets its biggest (or busiest) chunk split at a point chosen from the key sample, and one half moved to the
 * least used shard ({@code SplitShard}); a shard under the merge ratio on both axes for as long, whose chunks the target
 * can take while staying under half the split thresholds, is merged away ({@code MergeShards}) when the cluster keeps
 * headroom for the shards near their split thresholds. One migration per shard, a global cap, a cooldown per shard; a
 * one-key chunk is reported once instead of retried. Every decision is a {@link ShardCommand} on the commands topic and
 * a {@link ShardEvent} with the figures behind it.
 *
 * <p>The processor ({@link Balancer}) folds its inputs into a snapshot of the cluster once per window; the rules are the
 * policies of {@code io.shardline.topology.balancer.policy}, plain classes over that snapshot. All inputs are
 * single-partition control-plane topics, so one task sees the whole cluster.
 */
public final class RebalanceTopology {

    /**
     * The topics the balancer reads and writes.
     *
     * @param shardSizes what the size topology publishes per shard (read)
     * @param chunkSizes what the size topology publishes per chunk (read)
     * @param stats      where the table of every shard, size and load, is published once per window
     * @param chunkStats where a chunk's row of the chunk table is published when its figures change (every chunk's once
     *                   after the controller starts); the topic is compacted, so a chunk's last row stands until then
     */
    public record Config(Topic<String, ShardDescriptor> shards, Topic<String, NamespaceConfig> configs, Topic<String, ChunkRoute> routing,
                         Topic<String, ShardStats> shardSizes, Topic<String, ChunkStats> chunkSizes, Topic<String, QueryLoadSample> queryLoad,
                         Topic<String, MigrationState> migrations, Topic<String, KeySample> keySamples,
                         Topic<String, ShardCommand> commands, Topic<String, ShardEvent> events,
                         Topic<String, ShardStats> stats, Topic<String, ChunkStats> chunkStats, BalancerSettings settings) {
        public Config {
            Objects.requireNonNull(shards, "shards");
            Objects.requireNonNull(configs, "configs");
            Objects.requireNonNull(routing, "routing");
            Objects.requireNonNull(shardSizes, "shardSizes");
            Objects.requireNonNull(chunkSizes, "chunkSizes");
            Objects.requireNonNull(stats, "stats");
            Objects.requireNonNull(chunkStats, "chunkStats");
            Objects.requireNonNull(queryLoad, "queryLoad");
            Objects.requireNonNull(migrations, "migrations");
            Objects.requireNonNull(keySamples, "keySamples");
            Objects.requireNonNull(commands, "commands");
            Objects.requireNonNull(events, "events");
            Objects.requireNonNull(settings, "settings");
        }

        public static Config of(TopicCatalog catalog, BalancerSettings settings) {
            return new Config(catalog.shards(), catalog.config(), catalog.routing(), catalog.shardSizes(), catalog.chunkSizes(),
                catalog.queryLoad(), catalog.migrations(), catalog.keySamples(), catalog.commands(), catalog.events(),
                catalog.stats(), catalog.chunkStats(), settings);
        }
    }

    private RebalanceTopology() {
    }

    public static Topology build(Config config) {
        GlobalTables globals = new GlobalTables(new StreamsBuilder());
        addTo(globals, config);
        return globals.builder().build();
    }

    /** Adds the balancer to a builder, sharing its global tables with the other controller topologies. */
    static void addTo(GlobalTables globals, Config config) {
        StreamsBuilder builder = globals.builder();
        globals.store(config.routing(), StoreNames.ROUTES);
        globals.versionedStore(config.configs(), StoreNames.CONFIGS, NamespaceConfig::getVersion);
        globals.versionedStore(config.shards(), StoreNames.SHARDS, ShardDescriptor::getVersion);
        globals.store(config.keySamples(), StoreNames.KEY_SAMPLES);
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(StoreNames.BALANCER_SHARD_SIZES),
            Serdes.String(), AvroBinarySerde.of(ShardStats.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(StoreNames.BALANCER_CHUNK_SIZES),
            Serdes.String(), AvroBinarySerde.of(ChunkStats.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(StoreNames.BALANCER_SHARD_STATE),
            Serdes.String(), AvroBinarySerde.of(BalancerShardState.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(StoreNames.BALANCER_CHUNK_NOTES),
            Serdes.String(), AvroBinarySerde.of(ChunkNote.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(StoreNames.BALANCER_MIGRATIONS),
            Serdes.String(), AvroBinarySerde.of(MigrationState.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(StoreNames.BALANCER_CLOCK),
            Serdes.String(), Serdes.Long()));

        KStream<String, BalancerInput> inputs = source(builder, config.shardSizes(), "balancer-shard-sizes", BalancerInput.Size::new)
            .merge(source(builder, config.chunkSizes(), "balancer-chunk-sizes", BalancerInput.ChunkSize::new), Named.as("balancer-merge-chunk-sizes"))
            .merge(source(builder, config.queryLoad(), "balancer-query-load", BalancerInput.Load::new), Named.as("balancer-merge-load"))
            .merge(source(builder, config.migrations(), "balancer-migrations", BalancerInput.Migration::new), Named.as("balancer-merge-migrations"));

        Map<String, KStream<String, SpecificRecord>> decisions = inputs
            .process(() -> new Balancer(config.settings()), Named.as("balancer"),
                StoreNames.BALANCER_SHARD_SIZES, StoreNames.BALANCER_CHUNK_SIZES,
                StoreNames.BALANCER_SHARD_STATE, StoreNames.BALANCER_CHUNK_NOTES, StoreNames.BALANCER_MIGRATIONS, StoreNames.BALANCER_CLOCK)
            .split(Named.as("balancer-"))
            .branch((key, value) -> value instanceof ShardCommand, Branched.as("commands"))
            .branch((key, value) -> value instanceof ShardStats, Branched.as("stats"))
            .branch((key, value) -> value instanceof ChunkStats, Branched.as("chunk-stats"))
            .defaultBranch(Branched.as("events"));
        decisions.get("balancer-stats")
            .mapValues(value -> (ShardStats) value, Named.as("balancer-stats-values"))
            .to(config.stats().name(), Produced.with(config.stats().keySerde(), config.stats().valueSerde()).withName("stats-sink"));
        decisions.get("balancer-chunk-stats")
            .mapValues(value -> (ChunkStats) value, Named.as("balancer-chunk-stats-values"))
            .to(config.chunkStats().name(), Produced.with(config.chunkStats().keySerde(), config.chunkStats().valueSerde()).withName("chunk-stats-sink"));
        decisions.get("balancer-commands")
            .mapValues(value -> (ShardCommand) value, Named.as("balancer-command-values"))
            .to(config.commands().name(), Produced.with(config.commands().keySerde(), config.commands().valueSerde()).withName("commands-sink"));
        decisions.get("balancer-events")
            .mapValues(value -> (ShardEvent) value, Named.as("balancer-event-values"))
            .to(config.events().name(), Produced.with(config.events().keySerde(), config.events().valueSerde()).withName("events-sink"));
    }

    private static <V> KStream<String, BalancerInput> source(StreamsBuilder builder, Topic<String, V> topic, String name,
                                                             java.util.function.Function<V, BalancerInput> wrap) {
        return builder.stream(topic.name(), Consumed.with(topic.keySerde(), topic.valueSerde()).withName(name + "-source"))
            .filter((key, value) -> value != null, Named.as(name + "-present"))
            .mapValues(wrap::apply, Named.as(name + "-input"));
    }
}
