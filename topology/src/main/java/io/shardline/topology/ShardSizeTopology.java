package io.shardline.topology;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

import io.shardline.core.key.KeyHex;
import io.shardline.schemas.Topic;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkStats;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.schemas.avro.StatsSource;
import io.shardline.topology.internal.AvroBinarySerde;
import io.shardline.topology.internal.CdcChangeParser;
import io.shardline.topology.internal.CapacityLookup;
import io.shardline.topology.internal.CdcParseProcessor;
import io.shardline.topology.internal.GlobalTables;
import io.shardline.topology.internal.KeySampler;
import io.shardline.topology.internal.avro.SampleLevel;
import io.shardline.schemas.avro.KeySample;
import io.shardline.topology.internal.DeadLetterProcessor;
import io.shardline.topology.internal.DocumentSizeProcessor;
import io.shardline.topology.internal.ParsedCdc;
import io.shardline.topology.internal.avro.DocumentSize;
import io.shardline.topology.internal.avro.ShardSize;
import io.shardline.topology.stores.StoreNames;

/**
 * The CDC-derived size tables of every shard and every chunk: documents and BSON bytes from the post-images on the
 * CDC topics of all shards (a pattern subscription, so a new shard's topics are picked up without restart). Shard
 * sizes are related to each shard's capacity from the shards topic and published as {@link ShardStats}; chunk sizes
 * (documents placed by the routing table) as {@link ChunkStats}. A bounded sample of every namespace's shard keys goes to
 * the key-samples topic, for split points. A record that is not a readable Debezium change
 * goes to the dead-letter topic with its origin, and the topology keeps running.
 */
public final class ShardSizeTopology {

    /**
     * @param cdcTopicPrefix prefix of the CDC topics without the trailing dot ({@code cdc})
     * @param shards         the shard registry, read for capacities
     * @param shardSizes     where the size of every shard is published as it changes
     * @param routing        the routing table, to place documents in chunks
     * @param configs        namespace configs, for documents that do not carry their encoded key
     * @param chunkSizes     where the size of every chunk is published as it changes
     * @param dbStats        ground-truth shard sizes read from the shards, which replace the CDC-derived totals
     * @param deadLetters    where unreadable CDC records go
     * @param keySamples     where the sample of each namespace's shard keys is kept
     * @param keySampleSize  the bound of each namespace's key sample
     */
    public record Config(String cdcTopicPrefix, Topic<String, ShardDescriptor> shards, Topic<String, ShardStats> shardSizes,
                         Topic<String, ChunkRoute> routing, Topic<String, NamespaceConfig> configs,
                         Topic<String, ChunkStats> chunkSizes, Topic<String, ShardStats> dbStats,
                         Topic<byte[], byte[]> deadLetters, Topic<String, KeySample> keySamples, int keySampleSize) {

        /** Default bound of a namespace's key sample: a median from 4096 keys is within about 1% of the true one. */
        public static final int DEFAULT_KEY_SAMPLE_SIZE = 4096;

        /** The size topology of a catalog's topics, with CDC topics under {@code cdc.} and the default sample bound. */
        public static Config of(io.shardline.schemas.TopicCatalog catalog) {
            return new Config("cdc", catalog.shards(), catalog.shardSizes(), catalog.routing(), catalog.config(), catalog.chunkSizes(),
                catalog.dbStats(), catalog.cdcDlq(), catalog.keySamples(), DEFAULT_KEY_SAMPLE_SIZE);
        }

        public Config withCdcTopicPrefix(String prefix) {
            return new Config(prefix, shards, shardSizes, routing, configs, chunkSizes, dbStats, deadLetters, keySamples, keySampleSize);
        }

        public Config withKeySampleSize(int size) {
            return new Config(cdcTopicPrefix, shards, shardSizes, routing, configs, chunkSizes, dbStats, deadLetters, keySamples, size);
        }

        public Config {
            Objects.requireNonNull(cdcTopicPrefix, "cdcTopicPrefix");
            Objects.requireNonNull(shards, "shards");
            Objects.requireNonNull(shardSizes, "shardSizes");
            Objects.requireNonNull(deadLetters, "deadLetters");
            Objects.requireNonNull(routing, "routing");
            Objects.requireNonNull(configs, "configs");
            Objects.requireNonNull(chunkSizes, "chunkSizes");
            Objects.requireNonNull(dbStats, "dbStats");
            Objects.requireNonNull(keySamples, "keySamples");
            if (keySampleSize < 1) {
                throw new IllegalArgumentException("keySampleSize must be at least 1, was " + keySampleSize);
            }
            if (cdcTopicPrefix.isBlank() || cdcTopicPrefix.endsWith(".")) {
                throw new IllegalArgumentException("cdcTopicPrefix must be a non-blank prefix without a trailing dot, was '" + cdcTopicPrefix + "'");
            }
        }
    }

    private ShardSizeTopology() {
    }

    public static Topology build(Config config) {
        GlobalTables globals = new GlobalTables(new StreamsBuilder());
        addTo(globals, config);
        return globals.builder().build();
    }

    /** Adds the size sub-topologies to a builder, sharing its global tables with the other controller topologies. */
    static void addTo(GlobalTables globals, Config config) {
        StreamsBuilder builder = globals.builder();
        Serde<ShardSize> sizeSerde = AvroBinarySerde.of(ShardSize.class);
        builder.addStateStore(Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(StoreNames.DOCUMENT_SIZES), Serdes.String(), AvroBinarySerde.of(DocumentSize.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(StoreNames.KEY_SAMPLER), Serdes.String(), AvroBinarySerde.of(KeySample.class)));
        builder.addStateStore(Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(StoreNames.KEY_SAMPLE_LEVELS), Serdes.String(), AvroBinarySerde.of(SampleLevel.class)));
        globals.store(config.routing(), StoreNames.ROUTES);
        globals.versionedStore(config.configs(), StoreNames.CONFIGS, NamespaceConfig::getVersion);
        globals.versionedStore(config.shards(), StoreNames.SHARDS, ShardDescriptor::getVersion);

        Pattern cdcTopics = Pattern.compile(Pattern.quote(config.cdcTopicPrefix()) + "\\..+");
        String prefix = config.cdcTopicPrefix();
        Map<String, KStream<String, ParsedCdc>> branches = builder
            .stream(cdcTopics, Consumed.with(Serdes.String(), Serdes.String()).withName("cdc-source"))
            .process(() -> new CdcParseProcessor(new CdcChangeParser(prefix)), Named.as("cdc-parse"))
            .split(Named.as("cdc-"))
            .branch((key, parsed) -> parsed.failed(), Branched.as("malformed"))
            .defaultBranch(Branched.as("valid"));

        branches.get("cdc-malformed")
            .process(DeadLetterProcessor::new, Named.as("cdc-dead-letter"))
            .to(config.deadLetters().name(), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("cdc-dead-letter-sink"));

        int sampleSize = config.keySampleSize();
        branches.get("cdc-valid")
            .process(() -> new KeySampler(sampleSize, StoreNames.KEY_SAMPLER, StoreNames.KEY_SAMPLE_LEVELS, StoreNames.ROUTES, StoreNames.CONFIGS),
                Named.as("key-sampler"), StoreNames.KEY_SAMPLER, StoreNames.KEY_SAMPLE_LEVELS)
            .to(config.keySamples().name(), Produced.with(config.keySamples().keySerde(), config.keySamples().valueSerde())
                .withName("key-samples-sink"));

        Map<String, KStream<String, ShardSize>> deltas = branches.get("cdc-valid")
            .process(() -> new DocumentSizeProcessor(StoreNames.DOCUMENT_SIZES, StoreNames.ROUTES, StoreNames.CONFIGS),
                Named.as("document-sizes"), StoreNames.DOCUMENT_SIZES)
            .split(Named.as("size-deltas-"))
            .branch((key, delta) -> delta.getNamespace() == null, Branched.as("shard"))
            .defaultBranch(Branched.as("chunk"));

        // dbStats samples of the shards correct the CDC-derived totals (drift from missed or replayed events).
        KStream<String, ShardSize> groundTruth = builder
            .stream(config.dbStats().name(), Consumed.with(config.dbStats().keySerde(), config.dbStats().valueSerde()).withName("dbstats-source"))
            .mapValues(ShardSizeTopology::groundTruth, Named.as("dbstats-as-totals"));
        KTable<String, ShardSize> sizes = total(deltas.get("size-deltas-shard").merge(groundTruth, Named.as("shard-sizes-and-truth")),
            "shard", StoreNames.SHARD_SIZES, sizeSerde);
        total(deltas.get("size-deltas-chunk"), "chunk", StoreNames.CHUNK_SIZES, sizeSerde)
            .toStream(Named.as("chunk-stats-stream"))
            .mapValues(ShardSizeTopology::toChunkStats, Named.as("chunk-stats-values"))
            .to(config.chunkSizes().name(), Produced.with(config.chunkSizes().keySerde(), config.chunkSizes().valueSerde())
                .withName("chunk-sizes-sink"));

        sizes.toStream(Named.as("shard-sizes-stream"))
            .processValues(() -> new CapacityLookup<ShardSize, ShardStats>(StoreNames.SHARDS, ShardSizeTopology::toStats), Named.as("shard-stats-capacity"))
            .to(config.shardSizes().name(), Produced.with(config.shardSizes().keySerde(), config.shardSizes().valueSerde()).withName("shard-sizes-sink"));
    }

    /**
     * Sums deltas per key. An explicit partition count: Streams cannot infer one while the CDC pattern matches no
     * topic yet (a fresh cluster before its first write), and the shard join needs the shards topic's single partition.
     */
    private static KTable<String, ShardSize> total(KStream<String, ShardSize> deltas, String kind, String store, Serde<ShardSize> serde) {
        return deltas
            .repartition(Repartitioned.<String, ShardSize>as(kind + "-size-deltas")
                .withKeySerde(Serdes.String()).withValueSerde(serde).withNumberOfPartitions(1))
            .groupByKey(Grouped.with(kind + "-size-grouping", Serdes.String(), serde))
            .aggregate(() -> null, ShardSizeTopology::add, Named.as(kind + "-size-aggregate"),
                Materialized.<String, ShardSize, KeyValueStore<Bytes, byte[]>>as(store)
                    .withKeySerde(Serdes.String()).withValueSerde(serde));
    }

    private static ShardSize groundTruth(ShardStats sample) {
        return new ShardSize(sample.getShardId(), null, null, sample.getDocumentCount(), sample.getDataBytes(), 0L, true,
            sample.getUpdatedAt().toEpochMilli());
    }

    private static ShardSize add(String key, ShardSize delta, ShardSize total) {
        if (total == null) {
            return ShardSize.newBuilder(delta).setAbsolute(false).build();
        }
        if (delta.getAbsolute()) {
            return new ShardSize(total.getShardId(), total.getNamespace(), total.getChunkMinHex(), delta.getDocuments(),
                delta.getBytes(), total.getWrites(), false, Math.max(total.getUpdatedAtMillis(), delta.getUpdatedAtMillis()));
        }
        return new ShardSize(delta.getShardId(), delta.getNamespace(), delta.getChunkMinHex(),
            total.getDocuments() + delta.getDocuments(), total.getBytes() + delta.getBytes(),
            total.getWrites() + delta.getWrites(), false, Math.max(total.getUpdatedAtMillis(), delta.getUpdatedAtMillis()));
    }

    static ChunkStats toChunkStats(ShardSize size) {
        return ChunkStats.newBuilder()
            .setNamespace(size.getNamespace())
            .setChunkMin(KeyHex.bytes(size.getChunkMinHex()))
            .setShardId(size.getShardId())
            .setDocumentCount(size.getDocuments())
            .setDataBytes(size.getBytes())
            .setWrites(size.getWrites())
            .setUpdatedAt(Instant.ofEpochMilli(size.getUpdatedAtMillis()))
            .build();
    }

    static ShardStats toStats(ShardSize size, ShardDescriptor shard) {
        double storageRatio = shard == null || shard.getCapacityBytes() <= 0 ? 0.0 : (double) size.getBytes() / shard.getCapacityBytes();
        return ShardStats.newBuilder()
            .setShardId(size.getShardId())
            .setDocumentCount(size.getDocuments())
            .setDataBytes(size.getBytes())
            .setWrites(size.getWrites())
            .setStorageRatio(storageRatio)
            .setSource(StatsSource.CDC)
            .setUpdatedAt(Instant.ofEpochMilli(size.getUpdatedAtMillis()))
            .build();
    }
}
