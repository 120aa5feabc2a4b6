package io.shardline.standby;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkConnector;

import com.mongodb.MongoException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

/**
 * Keeps a shard's standby (another MongoDB, an embedded shard by default) up to date from the shard's CDC topics, so
 * that it can be promoted when the shard is lost: a Kafka Connect sink on the same Connect as the shard's Debezium
 * source, one task applying each topic's records in order ({@link StandbySinkTask}) and recording how far it got on
 * the standby ({@link StandbyProgress}).
 *
 * <p>Debezium's own MongoDB sink (3.6) cannot apply these records: it hands every record to its
 * {@code RelationalEventHandler}, which requires {@code after} to be a document (the MongoDB source writes it as an
 * extended-JSON string) and filters on {@code _id} equal to the whole key, {@code {"id": "<extended JSON _id>"}},
 * rather than on the document's {@code _id}.
 *
 * <p>Settings: {@value StandbySinkConfig#CONNECTION_STRING} and {@value StandbySinkConfig#SHARD_ID}, both required,
 * and Connect's own; both converters must be {@value #BYTE_ARRAY_CONVERTER}, since the task reads Debezium's JSON
 * itself ({@link io.shardline.backup.ChangeRecord}). {@link #config} builds the whole configuration.
 */
public final class StandbySinkConnector extends SinkConnector {

    /** The setting naming the standby's MongoDB connection string. */
    public static final String CONNECTION_STRING_CONFIG = StandbySinkConfig.CONNECTION_STRING;
    /** The setting naming the shard the standby stands by for. */
    public static final String SHARD_ID_CONFIG = StandbySinkConfig.SHARD_ID;
    /** The converter both the key and the value must go through: the records' bytes, unchanged. */
    public static final String BYTE_ARRAY_CONVERTER = "org.apache.kafka.connect.converters.ByteArrayConverter";
    static final String VERSION = readVersion();
    private static final List<String> CONVERTERS = List.of("key.converter", "value.converter");

    private Map<String, String> settings;

    /** The connector's name for a shard's standby. */
    public static String name(String shardId) {
        return "shardline-standby-" + shardId;
    }

    /**
     * The whole configuration of the standby sink of {@code shardId}: exactly that shard's CDC topics, the records'
     * bytes to the task unchanged, and every record the task cannot apply to {@code dlqTopic} with Connect's headers
     * naming the error and the record's origin.
     *
     * <p>The dead-letter topic's replication factor is {@code -1}, the broker's {@code default.replication.factor}:
     * Connect's default of 3 cannot create the topic on a single broker. There is no
     * {@code consumer.override.auto.offset.reset}: Connect's sink consumers already start a new group at the earliest
     * offset, and a worker whose override policy is {@code None} would refuse the setting.
     */
    public static Map<String, String> config(String shardId, String standbyUri, String dlqTopic) {
        Map<String, String> config = new LinkedHashMap<>();
        config.put("connector.class", StandbySinkConnector.class.getName());
        config.put("tasks.max", "1");
        config.put("topics.regex", ShardTopics.regex(shardId));
        config.put("key.converter", BYTE_ARRAY_CONVERTER);
        config.put("value.converter", BYTE_ARRAY_CONVERTER);
        config.put(CONNECTION_STRING_CONFIG, standbyUri);
        config.put(SHARD_ID_CONFIG, shardId);
        config.put("errors.tolerance", "all");
        config.put("errors.deadletterqueue.topic.name", dlqTopic);
        config.put("errors.deadletterqueue.context.headers.enable", "true");
        config.put("errors.deadletterqueue.topic.replication.factor", "-1");
        return config;
    }

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public void start(Map<String, String> props) {
        this.settings = Map.copyOf(new StandbySinkConfig(props).originalsStrings());
    }

    @Override
    public Class<? extends Task> taskClass() {
        return StandbySinkTask.class;
    }

    /**
     * As many tasks as asked for, each with the connector's settings: Connect gives each topic's one partition to one
     * task, so each namespace is applied in order by one task whatever their number.
     */
    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        return Collections.nCopies(maxTasks, settings);
    }

    @Override
    public void stop() {
        settings = null;
    }

    /**
     * Offsets set or reset through Connect ({@code PATCH} or {@code DELETE /connectors/<name>/offsets}) are recorded
     * on the standby first: a topic resumed at an offset counts as dealt with up to the record before it (the standby
     * holds what came before, as a seeded standby does), a topic reset has no progress any more. Connect then moves the
     * consumer group, as it does for any sink. A partition that is not one of the shard's CDC topics is refused.
     */
    @Override
    public boolean alterOffsets(Map<String, String> connectorConfig, Map<TopicPartition, Long> offsets) {
        StandbySinkConfig config = new StandbySinkConfig(connectorConfig);
        ShardTopics topics = new ShardTopics(config.shardId());
        Map<TopicPartition, String> namespaces = new LinkedHashMap<>();
        for (TopicPartition partition : offsets.keySet()) {
            try {
                namespaces.put(partition, topics.namespace(partition.topic()));
            } catch (IllegalArgumentException e) {
                throw new ConnectException(e.getMessage(), e);
            }
            if (partition.partition() != 0) {
                throw new ConnectException("partition: " + partition + "; a shard's CDC topic has one partition, 0");
            }
        }
        try (MongoClient standby = MongoClients.create(config.clientSettings())) {
            namespaces.forEach((partition, namespace) -> {
                Long next = offsets.get(partition);
                if (next == null) {
                    StandbyProgress.forget(standby, namespace);
                } else {
                    StandbyProgress.resumeAt(standby, namespace, partition.topic(), next);
                }
            });
        } catch (MongoException e) {
            throw new ConnectException("recording the new offsets on the standby failed: " + e.getMessage(), e);
        }
        return true;
    }

    @Override
    public ConfigDef config() {
        return StandbySinkConfig.DEFINITION;
    }

    /** The settings' own checks, and both converters being {@value #BYTE_ARRAY_CONVERTER}. */
    @Override
    public Config validate(Map<String, String> props) {
        List<ConfigValue> values = new ArrayList<>(super.validate(props).configValues());
        for (String converter : CONVERTERS) {
            String value = props.get(converter);
            if (!BYTE_ARRAY_CONVERTER.equals(value)) {
                values.add(new ConfigValue(converter, value, List.of(),
                    List.of(converter + ": must be " + BYTE_ARRAY_CONVERTER + " (the task reads Debezium's JSON itself), not " + value)));
            }
        }
        return new Config(values);
    }

    private static String readVersion() {
        Properties properties = new Properties();
        try (InputStream in = StandbySinkConnector.class.getResourceAsStream("standby.properties")) {
            if (in == null) {
                throw new IllegalStateException("io/shardline/standby/standby.properties: missing from the class path");
            }
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("io/shardline/standby/standby.properties: unreadable", e);
        }
        return properties.getProperty("version");
    }
}
