package io.shardline.schemas;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

import io.shardline.schemas.avro.Alert;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkStats;
import io.shardline.schemas.avro.KeySample;
import io.shardline.schemas.avro.LaneRequest;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.QueryLoadSample;
import io.shardline.schemas.avro.RouterAck;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.AcknowledgedCount;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.schemas.avro.TxnRecord;

/**
 * Every control-plane topic of one Shardline cluster, named from one prefix (default {@code shardline.}).
 * CDC topics are named by Debezium ({@code cdc.<shard>.<db>.<coll>}) and are not part of the catalog.
 */
public final class TopicCatalog {

    /** Prefix of every control-plane topic unless configured otherwise. */
    public static final String DEFAULT_PREFIX = "shardline.";
    /** CDC topics are kept at least this long, so a migration can replay from its watermark. */
    public static final Duration CDC_RETENTION = Duration.ofDays(7);

    private static final Duration EVENTS_RETENTION = Duration.ofDays(7);
    private static final Duration ALERTS_RETENTION = EVENTS_RETENTION;
    private static final Duration COMMANDS_RETENTION = Duration.ofDays(7);
    private static final Duration LOAD_RETENTION = Duration.ofHours(6);
    /**
     * Partitions of the migration-lanes topic when it is created: how many migrations can run at once in the whole
     * cluster at most (partitions can be added to a running cluster; the workers take them up at their next rebalance).
     */
    public static final int MIGRATION_LANES = 8;

    private final String prefix;
    private final Topic<String, ShardDescriptor> shards;
    private final Topic<String, NamespaceConfig> config;
    private final Topic<String, ChunkRoute> routing;
    private final Topic<String, ShardCommand> commands;
    private final Topic<byte[], byte[]> commandsDlq;
    private final Topic<String, MigrationState> migrations;
    private final Topic<String, LaneRequest> migrationLanes;
    private final Topic<String, QueryLoadSample> queryLoad;
    private final Topic<String, ShardStats> stats;
    private final Topic<String, ChunkStats> chunkStats;
    private final Topic<String, ShardStats> dbStats;
    private final Topic<String, ShardStats> shardSizes;
    private final Topic<String, ChunkStats> chunkSizes;
    private final Topic<String, KeySample> keySamples;
    private final Topic<byte[], byte[]> cdcDlq;
    private final Topic<byte[], byte[]> controlDlq;
    private final Topic<String, ShardEvent> events;
    private final Topic<String, RouterAck> routerAcks;
    private final Topic<String, AcknowledgedCount> acknowledged;
    private final Topic<String, Alert> alerts;
    private final Topic<String, TxnRecord> txn;
    private final Topic<String, TxnRecord> txnDecisions;

    public TopicCatalog(String prefix, RegistrySerdes serdes) {
        Objects.requireNonNull(serdes, "serdes");
        if (prefix == null || !prefix.matches("[a-zA-Z0-9._-]*")) {
            throw new IllegalArgumentException("topic prefix may hold only letters, digits, '.', '_' and '-', was " + prefix);
        }
        this.prefix = prefix;
        Serde<String> keys = Serdes.String();
        Duration none = Duration.ZERO;
        shards = new Topic<>(prefix + "shards", keys, serdes.valueSerde(ShardDescriptor.class), Topic.Cleanup.COMPACT, none);
        config = new Topic<>(prefix + "config", keys, serdes.valueSerde(NamespaceConfig.class), Topic.Cleanup.COMPACT, none);
        routing = new Topic<>(prefix + "routing", keys, serdes.valueSerde(ChunkRoute.class), Topic.Cleanup.COMPACT, none);
        commands = new Topic<>(prefix + "commands", keys, serdes.valueSerde(ShardCommand.class), Topic.Cleanup.DELETE, COMMANDS_RETENTION);
        commandsDlq = new Topic<>(prefix + "commands.dlq", Serdes.ByteArray(), Serdes.ByteArray(), Topic.Cleanup.DELETE, COMMANDS_RETENTION);
        migrations = new Topic<>(prefix + "migrations", keys, serdes.valueSerde(MigrationState.class), Topic.Cleanup.COMPACT, none);
        migrationLanes = new Topic<>(prefix + "migration-lanes", keys, serdes.valueSerde(LaneRequest.class), Topic.Cleanup.DELETE,
            COMMANDS_RETENTION, MIGRATION_LANES);
        queryLoad = new Topic<>(prefix + "query-load", keys, serdes.valueSerde(QueryLoadSample.class), Topic.Cleanup.DELETE, LOAD_RETENTION);
        stats = new Topic<>(prefix + "stats", keys, serdes.valueSerde(ShardStats.class), Topic.Cleanup.COMPACT, none);
        chunkStats = new Topic<>(prefix + "chunk-stats", keys, serdes.valueSerde(ChunkStats.class), Topic.Cleanup.COMPACT, none);
        dbStats = new Topic<>(prefix + "dbstats", keys, serdes.valueSerde(ShardStats.class), Topic.Cleanup.DELETE, LOAD_RETENTION);
        shardSizes = new Topic<>(prefix + "shard-sizes", keys, serdes.valueSerde(ShardStats.class), Topic.Cleanup.COMPACT, none);
        chunkSizes = new Topic<>(prefix + "chunk-sizes", keys, serdes.valueSerde(ChunkStats.class), Topic.Cleanup.COMPACT, none);
        keySamples = new Topic<>(prefix + "key-samples", keys, serdes.valueSerde(KeySample.class), Topic.Cleanup.COMPACT, none);
        cdcDlq = new Topic<>(prefix + "cdc.dlq", Serdes.ByteArray(), Serdes.ByteArray(), Topic.Cleanup.DELETE, CDC_RETENTION);
        controlDlq = new Topic<>(prefix + "control.dlq", Serdes.ByteArray(), Serdes.ByteArray(), Topic.Cleanup.DELETE, COMMANDS_RETENTION);
        events = new Topic<>(prefix + "events", keys, serdes.valueSerde(ShardEvent.class), Topic.Cleanup.DELETE, EVENTS_RETENTION);
        routerAcks = new Topic<>(prefix + "router-acks", keys, serdes.valueSerde(RouterAck.class), Topic.Cleanup.COMPACT, none);
        acknowledged = new Topic<>(prefix + "acknowledged", keys, serdes.valueSerde(AcknowledgedCount.class), Topic.Cleanup.COMPACT, none);
        alerts = new Topic<>(prefix + "alerts", keys, serdes.valueSerde(Alert.class), Topic.Cleanup.DELETE, ALERTS_RETENTION);
        txn = new Topic<>(prefix + "txn", keys, serdes.valueSerde(TxnRecord.class), Topic.Cleanup.COMPACT, none);
        txnDecisions = new Topic<>(prefix + "txn-decisions", keys, serdes.valueSerde(TxnRecord.class), Topic.Cleanup.DELETE, CDC_RETENTION);
    }

    public String prefix() {
        return prefix;
    }

    public Topic<String, ShardDescriptor> shards() {
        return shards;
    }

    public Topic<String, NamespaceConfig> config() {
        return config;
    }

    public Topic<String, ChunkRoute> routing() {
        return routing;
    }

    public Topic<String, ShardCommand> commands() {
        return commands;
    }

    public Topic<byte[], byte[]> commandsDlq() {
        return commandsDlq;
    }

    public Topic<String, MigrationState> migrations() {
        return migrations;
    }

    /**
     * The lanes migrations run in, one per partition: the worker holding the commands admits a migration to a free
     * lane ({@link LaneRequest} RUN) and sends it aborts and rollbacks there; the worker holding that partition runs it.
     */
    public Topic<String, LaneRequest> migrationLanes() {
        return migrationLanes;
    }

    public Topic<String, QueryLoadSample> queryLoad() {
        return queryLoad;
    }

    /**
     * The controller's table of every shard, size and load relative to capacity, published once per decision
     * window; what the CLI and admin API show.
     */
    public Topic<String, ShardStats> stats() {
        return stats;
    }

    /** Size and load of every chunk, keyed by namespace and chunk min (see {@link #routingKey}), once per decision window. */
    public Topic<String, ChunkStats> chunkStats() {
        return chunkStats;
    }

    /** CDC-derived documents, bytes and writes of every shard, as they change (corrected by dbStats). */
    public Topic<String, ShardStats> shardSizes() {
        return shardSizes;
    }

    /** CDC-derived documents, bytes and writes of every chunk, as they change, keyed like {@link #chunkStats()}. */
    public Topic<String, ChunkStats> chunkSizes() {
        return chunkSizes;
    }

    /** Ground-truth sizes the controller's collector read from each shard ({@code dbStats}), which correct the tables. */
    public Topic<String, ShardStats> dbStats() {
        return dbStats;
    }

    /** The controller's bounded sample of shard keys per namespace, keyed by {@link #keySampleKey}; split points come from it. */
    public Topic<String, KeySample> keySamples() {
        return keySamples;
    }

    /** CDC records the controller could not read, with their origin in headers. */
    public Topic<byte[], byte[]> cdcDlq() {
        return cdcDlq;
    }

    /** Shard, config and routing records a reader could not use, with their origin in headers. */
    public Topic<byte[], byte[]> controlDlq() {
        return controlDlq;
    }

    public Topic<String, ShardEvent> events() {
        return events;
    }

    public Topic<String, RouterAck> routerAcks() {
        return routerAcks;
    }

    /** Each router's acknowledged document counts per chunk range: what {@code verify} holds the shards against. */
    public Topic<String, AcknowledgedCount> acknowledged() {
        return acknowledged;
    }

    /**
     * The alerter's alerts, keyed by fingerprint: each alert raised from an event (FIRING) and each resolved, in order. An
     * alerter that starts reads it to know what is firing.
     */
    public Topic<String, Alert> alerts() {
        return alerts;
    }

    /**
     * The coordinator log of cross-shard transactions, keyed by transaction id, one partition: the first COMMITTED or
     * ABORTED record of a transaction is its decision (see {@link TxnRecord}).
     */
    public Topic<String, TxnRecord> txn() {
        return txn;
    }

    /**
     * Every decided transaction's decision record (its state and when it was taken), written once all its intents are
     * resolved and kept as long as the CDC topics, after the coordinator log has forgotten the transaction: a restore to
     * a moment when a document was held reads from it whether the transaction had committed by then.
     */
    public Topic<String, TxnRecord> txnDecisions() {
        return txnDecisions;
    }

    /** Key of an acknowledged count: router, namespace and the chunk range the writes were routed by. */
    public static String acknowledgedKey(String routerId, String namespace, String minHex, String maxHex) {
        return routerId + "|" + namespace + "|" + minHex + "|" + (maxHex == null ? "" : maxHex);
    }

    /** Every control-plane topic, for creating them at start-up. */
    public List<Topic<?, ?>> all() {
        return List.of(shards, config, routing, commands, commandsDlq, migrations, migrationLanes, queryLoad, stats, chunkStats, dbStats, shardSizes, chunkSizes, keySamples, cdcDlq, controlDlq, events, routerAcks, acknowledged, alerts, txn, txnDecisions);
    }

    /** Name of the CDC topic Debezium writes for one collection of one shard. */
    public static String cdcTopic(String shardId, String namespace) {
        return "cdc." + shardId + "." + namespace;
    }

    /**
     * Key of a key sample: {@code <namespace>|<key hex>!<shard>!<document key>}. The separator after the key hex sorts
     * below every hex digit, so the samples of a chunk are exactly the keys from {@code routingKey(ns, minHex)}
     * (inclusive) to {@code routingKey(ns, maxHex)} (exclusive).
     */
    public static String keySampleKey(String namespace, String keyHex, String shardId, String documentKey) {
        return routingKey(namespace, keyHex) + "!" + shardId + "!" + documentKey;
    }

    /** Key of a routing record: the namespace and the chunk's lower bound in hex. */
    public static String routingKey(String namespace, String chunkMinHex) {
        return namespace + "|" + chunkMinHex;
    }
}
