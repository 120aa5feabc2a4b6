package io.shardline.schemas;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Where every Kafka client of Shardline gets its settings: the bootstrap servers, Shardline's own client settings
 * ({@link #DEFINITION}: name, type, default, validator and doc, defined once), and the client settings of the
 * deployment that every client must carry (security protocol, SASL, TLS...).
 *
 * <p>A deployment passes those as environment variables {@code SHARDLINE_KAFKA_<NAME>}, the name upper-cased with
 * dots as underscores: {@code SHARDLINE_KAFKA_SECURITY_PROTOCOL=SASL_SSL} sets {@code security.protocol} on every
 * client, {@code SHARDLINE_KAFKA_READ_FETCH_MAX_WAIT_MS=50} sets Shardline's {@value #READ_FETCH_MAX_WAIT_MS}.
 * A setting a client needs for its own correctness (isolation level, transactional id, acks, a worker's session
 * timeout, which its ownership lease is shorter than) is set after them and cannot be overridden.
 */
public final class KafkaClients {

    /** Prefix of the environment variables read by {@link #fromEnvironment}. */
    public static final String ENV_PREFIX = "SHARDLINE_KAFKA_";

    public static final String READ_FETCH_MAX_WAIT_MS = "read.fetch.max.wait.ms";

    /** Settings that name one client and so cannot be given to every client. */
    private static final java.util.Set<String> PER_CLIENT = java.util.Set.of(CommonClientConfigs.CLIENT_ID_CONFIG,
        CommonClientConfigs.GROUP_ID_CONFIG, CommonClientConfigs.GROUP_INSTANCE_ID_CONFIG, ProducerConfig.TRANSACTIONAL_ID_CONFIG);

    /** Shardline's own client settings. */
    public static final ConfigDef DEFINITION = new ConfigDef()
        .define(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, ConfigDef.Type.LIST, ConfigDef.NO_DEFAULT_VALUE, ConfigDef.LambdaValidator.with(
                (name, value) -> {
                    if (value == null || ((java.util.List<?>) value).isEmpty()) {
                        throw new ConfigException(name, value, "at least one host:port is needed");
                    }
                }, () -> "non-empty list of host:port"),
            ConfigDef.Importance.HIGH, "The Kafka brokers every client connects to first.")
        .define(READ_FETCH_MAX_WAIT_MS, ConfigDef.Type.INT, 20, ConfigDef.Range.between(0, 500), ConfigDef.Importance.LOW,
            "How long the broker may hold a fetch of a reader that reads a control-plane topic to its end. The broker's "
                + "default (500 ms) is waited out whole on a partition whose last batch is a transaction marker, and a read "
                + "to the end (a table refresh) would wait that long for nothing.");

    private final AbstractConfig shardline;
    private final Map<String, Object> passThrough;

    private KafkaClients(AbstractConfig shardline, Map<String, Object> passThrough) {
        this.shardline = shardline;
        this.passThrough = passThrough;
    }

    /** The clients of a deployment: the bootstrap servers and the {@code SHARDLINE_KAFKA_*} environment variables. */
    public static KafkaClients fromEnvironment(String bootstrapServers) {
        return of(bootstrapServers, System.getenv());
    }

    /**
     * @param environment variables; those starting with {@link #ENV_PREFIX} are settings
     * @throws ConfigException naming the setting when one is not valid
     */
    public static KafkaClients of(String bootstrapServers, Map<String, String> environment) {
        Map<String, Object> settings = new TreeMap<>();
        environment.forEach((name, value) -> {
            if (name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length()) {
                String setting = name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
                if (PER_CLIENT.contains(setting)) {
                    throw new ConfigException(name, value, setting + " names one client; Shardline gives each client its own");
                }
                settings.put(setting, value);
            }
        });
        settings.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        Map<String, Object> passThrough = new TreeMap<>(settings);
        DEFINITION.names().forEach(passThrough::remove);
        return new KafkaClients(new AbstractConfig(DEFINITION, settings, false), passThrough);
    }

    public String bootstrapServers() {
        return String.join(",", shardline.getList(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG));
    }

    public int readFetchMaxWaitMs() {
        return shardline.getInt(READ_FETCH_MAX_WAIT_MS);
    }

    /** The deployment's settings for every client (bootstrap servers and whatever the environment adds). */
    public Map<String, Object> common() {
        Map<String, Object> common = new HashMap<>(passThrough);
        common.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return common;
    }

    /**
     * Settings of a reader of committed records that commits nothing automatically: a table or a log tail that
     * assigns and seeks, or a group member that commits itself. {@code specific} adds to them or replaces them.
     *
     * @param groupId the group the reader's offsets would belong to, or {@code null} for none
     */
    public Map<String, Object> reader(String groupId, Map<String, Object> specific) {
        Map<String, Object> config = common();
        if (groupId != null) {
            config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        }
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, readFetchMaxWaitMs());
        config.putAll(specific);
        return config;
    }

    /** Settings of a producer whose every send is acknowledged by all in-sync replicas, sent at once. */
    public Map<String, Object> producer(Map<String, Object> specific) {
        Map<String, Object> config = common();
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        config.putAll(specific);
        return config;
    }

    /** Kafka Streams settings: the deployment's client settings and {@code specific}. */
    public Properties streams(Map<String, Object> specific) {
        Properties props = new Properties();
        props.putAll(common());
        props.putAll(specific);
        return props;
    }

    public KafkaConsumer<byte[], byte[]> bytesReader(String groupId, Map<String, Object> specific) {
        return new KafkaConsumer<>(reader(groupId, specific), new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    public KafkaProducer<byte[], byte[]> bytesProducer(Map<String, Object> specific) {
        return new KafkaProducer<>(producer(specific), new ByteArraySerializer(), new ByteArraySerializer());
    }

    public Admin admin() {
        return Admin.create(common());
    }
}
