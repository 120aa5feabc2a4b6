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

import io.shardline.schemas.Topic;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.schemas.avro.StatsSource;
import io.shardline.topology.internal.AvroBinarySerde;
import io.shardline.topology.internal.CdcChangeParser;
import io.shardline.topology.internal.CdcParseProcessor;
import io.shardline.topology.internal.DeadLetterProcessor;
import io.shardline.topology.internal.DocumentSizeProcessor;
import io.shardline.topology.internal.ParsedCdc;
import io.shardline.topology.internal.avro.ShardSize;

/**
 * The CDC-derived size table of every shard: documents and BSON bytes from the post-images on the CDC topics of
 * all shards (a pattern subscription, so a new shard's topics are picked up without restart), relative to each
 * shard's capacity from the shards topic, published as {@link ShardStats} on the stats topic. A record that is
 * not a readable Debezium change goes to the dead-letter topic with its origin, and the topology keeps running.
 */
public final class ShardSizeTopology {

    /** Last known BSON size per (shard, namespace, document). */
    public static final String DOCUMENT_SIZES_STORE = "cdc-document-sizes";
    /** Documents and bytes per shard. */
    public static final String SHARD_SIZES_STORE = "shard-sizes";
    /** Shard descriptors, for capacities. */
    public static final String SHARDS_STORE = "shard-descriptors";

    /**
     * @param cdcTopicPrefix prefix of the CDC topics without the trailing dot ({@code cdc})
     * @param shards         the shard registry, read for capacities
     * @param stats          where shard stats are published
     * @param deadLetters    where unreadable CDC records go
     */
    public record Config(String cdcTopicPrefix, Topic<String, ShardDescriptor> shards, Topic<String, ShardStats> stats,
                         Topic<byte[], byte[]> deadLetters) {
        public Config {
            Objects.requireNonNull(cdcTopicPrefix, "cdcTopicPrefix");
            Objects.requireNonNull(shards, "shards");
            Objects.requireNonNull(stats, "stats");
            Objects.requireNonNull(deadLetters, "deadLetters");
            if (cdcTopicPrefix.isBlank() || cdcTopicPrefix.endsWith(".")) {
                throw new IllegalArgumentException("cdcTopicPrefix must be a non-blank prefix without a trailing dot, was '" + cdcTopicPrefix + "'");
            }
        }
    }

    private ShardSizeTopology() {
    }

    public static Topology build(Config config) {
        StreamsBuilder builder = new StreamsBuilder();
        Serde<ShardSize> sizeSerde = AvroBinarySerde.of(ShardSize.class);
        builder.addStateStore(Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(DOCUMENT_SIZES_STORE), Serdes.String(), Serdes.Integer()));

        KTable<String, ShardDescriptor> shards = builder.table(config.shards().name(),
            Consumed.with(config.shards().keySerde(), config.shards().valueSerde()).withName("shards-source"),
            Materialized.<String, ShardDescriptor, KeyValueStore<Bytes, byte[]>>as(SHARDS_STORE)
                .withKeySerde(config.shards().keySerde()).withValueSerde(config.shards().valueSerde()));

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

        KTable<String, ShardSize> sizes = branches.get("cdc-valid")
            .process(() -> new DocumentSizeProcessor(DOCUMENT_SIZES_STORE), Named.as("document-sizes"), DOCUMENT_SIZES_STORE)
            // An explicit partition count: Streams cannot infer one while the CDC pattern matches no topic yet (a
            // fresh cluster before its first write), and the join below needs the shards topic's single partition.
            .repartition(Repartitioned.<String, ShardSize>as("shard-size-deltas")
                .withKeySerde(Serdes.String()).withValueSerde(sizeSerde).withNumberOfPartitions(1))
            .groupByKey(Grouped.with("shard-size-grouping", Serdes.String(), sizeSerde))
            .aggregate(() -> null, ShardSizeTopology::add, Named.as("shard-size-aggregate"),
                Materialized.<String, ShardSize, KeyValueStore<Bytes, byte[]>>as(SHARD_SIZES_STORE)
                    .withKeySerde(Serdes.String()).withValueSerde(sizeSerde));

        sizes.leftJoin(shards, ShardSizeTopology::toStats, Named.as("shard-stats-join"))
            .toStream(Named.as("shard-stats-stream"))
            .to(config.stats().name(), Produced.with(config.stats().keySerde(), config.stats().valueSerde()).withName("shard-stats-sink"));
        return builder.build();
    }

    private static ShardSize add(String shardId, ShardSize delta, ShardSize total) {
        if (total == null) {
            return new ShardSize(shardId, delta.getDocuments(), delta.getBytes(), delta.getWrites(), delta.getUpdatedAtMillis());
        }
        return new ShardSize(shardId, total.getDocuments() + delta.getDocuments(), total.getBytes() + delta.getBytes(),
            total.getWrites() + delta.getWrites(), Math.max(total.getUpdatedAtMillis(), delta.getUpdatedAtMillis()));
    }

    static ShardStats toStats(ShardSize size, ShardDescriptor shard) {
        double storageRatio = shard == null || shard.getCapacityBytes() <= 0 ? 0.0 : (double) size.getBytes() / shard.getCapacityBytes();
        return ShardStats.newBuilder()
            .setShardId(size.getShardId())
            .setDocumentCount(size.getDocuments())
            .setDataBytes(size.getBytes())
            .setStorageRatio(storageRatio)
            .setSource(StatsSource.CDC)
            .setUpdatedAt(Instant.ofEpochMilli(size.getUpdatedAtMillis()))
            .build();
    }
}
