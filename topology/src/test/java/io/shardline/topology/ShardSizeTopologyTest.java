package io.shardline.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.bson.BsonDocument;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.shardline.schemas.Topic;
import io.shardline.core.key.KeyEncoding;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkStats;
import io.shardline.schemas.avro.KeySample;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.topology.internal.AvroBinarySerde;
import io.shardline.schemas.DeadLetterHeaders;

class ShardSizeTopologyTest {

    // The driver test has no registry: control-plane values use plain Avro binary here, the same records.
    private static final Topic<String, ShardDescriptor> SHARDS = new Topic<>("t.shards", Serdes.String(),
        AvroBinarySerde.of(ShardDescriptor.class), Topic.Cleanup.COMPACT, Duration.ZERO);
    private static final Topic<String, ShardStats> STATS = new Topic<>("t.stats", Serdes.String(),
        AvroBinarySerde.of(ShardStats.class), Topic.Cleanup.COMPACT, Duration.ZERO);
    private static final Topic<byte[], byte[]> DLQ = new Topic<>("t.cdc.dlq", Serdes.ByteArray(), Serdes.ByteArray(),
        Topic.Cleanup.DELETE, Duration.ofDays(1));
    private static final Topic<String, ChunkRoute> ROUTING = new Topic<>("t.routing", Serdes.String(),
        AvroBinarySerde.of(ChunkRoute.class), Topic.Cleanup.COMPACT, Duration.ZERO);
    private static final Topic<String, NamespaceConfig> CONFIGS = new Topic<>("t.config", Serdes.String(),
        AvroBinarySerde.of(NamespaceConfig.class), Topic.Cleanup.COMPACT, Duration.ZERO);
    private static final Topic<String, ShardStats> DB_STATS = new Topic<>("t.dbstats", Serdes.String(),
        AvroBinarySerde.of(ShardStats.class), Topic.Cleanup.DELETE, Duration.ofDays(1));
    private static final Topic<String, ChunkStats> CHUNK_STATS = new Topic<>("t.chunk-stats", Serdes.String(),
        AvroBinarySerde.of(ChunkStats.class), Topic.Cleanup.COMPACT, Duration.ZERO);
    private static final Topic<String, KeySample> KEY_SAMPLES = new Topic<>("t.key-samples", Serdes.String(),
        AvroBinarySerde.of(KeySample.class), Topic.Cleanup.COMPACT, Duration.ZERO);
    private static final int SAMPLE_SIZE = 64;
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private TopologyTestDriver driver;
    private TestInputTopic<String, String> s1Users;
    private TestInputTopic<String, String> s2Users;
    private TestInputTopic<String, ShardDescriptor> shards;
    private TestOutputTopic<String, ShardStats> stats;
    private TestOutputTopic<byte[], byte[]> deadLetters;
    private TestInputTopic<String, ChunkRoute> routes;
    private TestInputTopic<String, NamespaceConfig> configs;
    private TestOutputTopic<String, ChunkStats> chunkStats;
    private TestInputTopic<String, ShardStats> dbStats;
    private TestOutputTopic<String, KeySample> keySamples;

    @BeforeEach
    void startDriver() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "shard-size-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        driver = new TopologyTestDriver(ShardSizeTopology.build(new ShardSizeTopology.Config("cdc", SHARDS, STATS, ROUTING, CONFIGS, CHUNK_STATS, DB_STATS, DLQ,
            KEY_SAMPLES, SAMPLE_SIZE)), props);
        keySamples = driver.createOutputTopic(KEY_SAMPLES.name(), Serdes.String().deserializer(), KEY_SAMPLES.valueSerde().deserializer());
        s1Users = driver.createInputTopic("cdc.s1.auth.users", new StringSerializer(), new StringSerializer());
        s2Users = driver.createInputTopic("cdc.s2.auth.users", new StringSerializer(), new StringSerializer());
        shards = driver.createInputTopic(SHARDS.name(), new StringSerializer(), SHARDS.valueSerde().serializer());
        stats = driver.createOutputTopic(STATS.name(), Serdes.String().deserializer(), STATS.valueSerde().deserializer());
        deadLetters = driver.createOutputTopic(DLQ.name(), Serdes.ByteArray().deserializer(), Serdes.ByteArray().deserializer());
        routes = driver.createInputTopic(ROUTING.name(), new StringSerializer(), ROUTING.valueSerde().serializer());
        configs = driver.createInputTopic(CONFIGS.name(), new StringSerializer(), CONFIGS.valueSerde().serializer());
        dbStats = driver.createInputTopic(DB_STATS.name(), new StringSerializer(), DB_STATS.valueSerde().serializer());
        chunkStats = driver.createOutputTopic(CHUNK_STATS.name(), Serdes.String().deserializer(), CHUNK_STATS.valueSerde().deserializer());
    }

    @AfterEach
    void closeDriver() {
        driver.close();
    }

    private static String key(String id) {
        return "{\"id\":\"\\\"" + id + "\\\"\"}";
    }

    private static String change(String op, String afterJson) {
        String after = afterJson == null ? "null" : "\"" + afterJson.replace("\"", "\\\"") + "\"";
        return "{\"before\":null,\"after\":" + after + ",\"op\":\"" + op + "\",\"source\":{\"connector\":\"mongodb\"}}";
    }

    private static int bsonSize(String json) {
        return new RawBsonDocument(BsonDocument.parse(json), new BsonDocumentCodec()).getByteBuffer().remaining();
    }

    private Map<String, ShardStats> latestStats() {
        return stats.readKeyValuesToMap();
    }

    @Test
    void shouldCountDocumentsAndBytesWhenDocumentsAreInsertedUpdatedAndDeleted() {
        String ann = "{\"_id\": \"ann\", \"tenantId\": \"acme\"}";
        String annLonger = "{\"_id\": \"ann\", \"tenantId\": \"acme\", \"name\": \"Ann Example\"}";
        String bob = "{\"_id\": \"bob\", \"tenantId\": \"acme\"}";

        s1Users.pipeInput(key("ann"), change("c", ann), T0);
        s1Users.pipeInput(key("bob"), change("c", bob), T0.plusSeconds(1));
        s1Users.pipeInput(key("ann"), change("u", annLonger), T0.plusSeconds(2));
        s1Users.pipeInput(key("bob"), change("d", null), T0.plusSeconds(3));

        ShardStats s1 = latestStats().get("s1");
        assertThat(s1.getDocumentCount()).isEqualTo(1);
        assertThat(s1.getDataBytes()).isEqualTo(bsonSize(annLonger));
        assertThat(s1.getUpdatedAt()).isEqualTo(T0.plusSeconds(3));
    }

    @Test
    void shouldNotCountAChangeTwiceWhenDebeziumDeliversItAgain() {
        String ann = "{\"_id\": \"ann\", \"tenantId\": \"acme\"}";

        s1Users.pipeInput(key("ann"), change("r", ann), T0);
        s1Users.pipeInput(key("ann"), change("c", ann), T0.plusSeconds(1));
        s1Users.pipeInput(key("gone"), change("d", null), T0.plusSeconds(2));

        ShardStats s1 = latestStats().get("s1");
        assertThat(s1.getDocumentCount()).isEqualTo(1);
        assertThat(s1.getDataBytes()).isEqualTo(bsonSize(ann));
    }

    @Test
    void shouldKeepShardsApartAndRelateBytesToEachShardsCapacity() {
        shards.pipeInput("s1", ShardDescriptor.newBuilder().setShardId("s1").setConnectionString("mongodb://a/")
            .setCapacityBytes(1_000).setCapacityOpsPerSec(100).setState(ShardState.ACTIVE).setVersion(1)
            .setUpdatedAt(T0).build(), T0);
        String doc = "{\"_id\": \"x\", \"pad\": \"" + "p".repeat(180) + "\"}";

        s1Users.pipeInput(key("x"), change("c", doc), T0.plusSeconds(1));
        s2Users.pipeInput(key("x"), change("c", doc), T0.plusSeconds(1));
        s2Users.pipeInput(key("y"), change("c", doc.replace("\"x\"", "\"y\"")), T0.plusSeconds(2));

        Map<String, ShardStats> latest = latestStats();
        assertThat(latest.get("s1").getDocumentCount()).isEqualTo(1);
        assertThat(latest.get("s1").getStorageRatio()).isEqualTo(bsonSize(doc) / 1_000.0);
        assertThat(latest.get("s2").getDocumentCount()).isEqualTo(2);
        assertThat(latest.get("s2").getStorageRatio()).as("no descriptor, no capacity").isZero();
    }

    @Test
    void shouldSendAMalformedRecordToTheDeadLetterTopicWithItsOriginAndKeepCounting() {
        s1Users.pipeInput(key("ann"), "{\"op\":\"c\",\"after\":\"not json at all\"}", T0);
        s1Users.pipeInput("{\"nokey\":1}", change("c", "{\"_id\": 1}"), T0.plusSeconds(1));
        s1Users.pipeInput(key("bob"), change("c", "{\"_id\": \"bob\"}"), T0.plusSeconds(2));

        List<TestRecord<byte[], byte[]>> letters = deadLetters.readRecordsToList();
        assertThat(letters).hasSize(2);
        assertThat(header(letters.get(0), DeadLetterHeaders.FIELD)).isEqualTo("after");
        assertThat(header(letters.get(0), DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo("cdc.s1.auth.users");
        assertThat(header(letters.get(0), DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("0");
        assertThat(new String(letters.get(0).value(), StandardCharsets.UTF_8)).contains("not json at all");
        assertThat(header(letters.get(1), DeadLetterHeaders.FIELD)).isEqualTo("key.id");
        assertThat(header(letters.get(1), DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("1");
        assertThat(latestStats().get("s1").getDocumentCount()).isEqualTo(1);
    }

    @Test
    void shouldPickUpTheTopicsOfANewShardWithoutRestart() {
        TestInputTopic<String, String> s3Sessions = driver.createInputTopic("cdc.s3.auth.sessions", new StringSerializer(), new StringSerializer());

        s3Sessions.pipeInput(key("sess1"), change("c", "{\"_id\": \"sess1\"}"), T0);

        assertThat(latestStats()).containsKey("s3");
    }

    @Test
    void shouldNotSubscribeToTopicsOutsideTheCdcPrefix() {
        for (String topic : List.of("cdcx.s1.auth.users", "__debezium-heartbeat.cdc.s1")) {
            TestInputTopic<String, String> other = driver.createInputTopic(topic, new StringSerializer(), new StringSerializer());

            assertThatThrownBy(() -> other.pipeInput(key("a"), change("c", "{\"_id\": \"a\"}"), T0))
                .hasMessageContaining("Unknown topic");
        }
    }

    private void routeUsersSplitAtM(String lowerShard, String upperShard, long version) {
        configs.pipeInput("auth.users", NamespaceConfig.newBuilder().setNamespace("auth.users").setStrategy(ShardKeyStrategyType.TENANT)
            .setShardKeyFields(List.of("tenantId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build(), T0);
        String m = KeyEncoding.encode("m").toHex();
        routes.pipeInput("auth.users|", route("", m, lowerShard, version), T0);
        routes.pipeInput("auth.users|" + m, route(m, null, upperShard, version), T0);
    }

    private static ChunkRoute route(String minHex, String maxHex, String shard, long version) {
        return ChunkRoute.newBuilder().setNamespace("auth.users")
            .setMin(ByteBuffer.wrap(HexFormat.of().parseHex(minHex)))
            .setMax(maxHex == null ? null : ByteBuffer.wrap(HexFormat.of().parseHex(maxHex)))
            .setShardId(shard).setEpoch(1).setVersion(version).build();
    }

    @Test
    void shouldReplaceTheCdcDerivedTotalsWithAGroundTruthSampleAndKeepCountingFromThere() {
        s1Users.pipeInput(key("a"), change("c", "{\"_id\": \"a\"}"), T0);
        s1Users.pipeInput(key("b"), change("c", "{\"_id\": \"b\"}"), T0);

        dbStats.pipeInput("s1", ShardStats.newBuilder().setShardId("s1").setDocumentCount(10).setDataBytes(1_000)
            .setSource(io.shardline.schemas.avro.StatsSource.DBSTATS).setUpdatedAt(T0.plusSeconds(5)).build(), T0.plusSeconds(5));
        assertThat(latestStats().get("s1").getDocumentCount()).isEqualTo(10);

        s1Users.pipeInput(key("c"), change("c", "{\"_id\": \"c\"}"), T0.plusSeconds(6));
        ShardStats after = latestStats().get("s1");
        assertThat(after.getDocumentCount()).isEqualTo(11);
        assertThat(after.getDataBytes()).isEqualTo(1_000 + bsonSize("{\"_id\": \"c\"}"));
    }

    @Test
    void shouldCountDocumentsPerChunkPlacedByTheRoutingTable() {
        routeUsersSplitAtM("s1", "s1", 1);
        String m = KeyEncoding.encode("m").toHex();

        s1Users.pipeInput(key("a1"), change("c", "{\"_id\": \"a1\", \"tenantId\": \"acme\"}"), T0);
        s1Users.pipeInput(key("a2"), change("c", "{\"_id\": \"a2\", \"tenantId\": \"bolt\"}"), T0);
        s1Users.pipeInput(key("z1"), change("c", "{\"_id\": \"z1\", \"tenantId\": \"zeta\"}"), T0);
        // Written by the router: placed by its stored key, whatever the strategy would say.
        s1Users.pipeInput(key("r1"), change("c", "{\"_id\": \"r1\", \"tenantId\": \"acme\", \"_sk\": \"" + KeyEncoding.encode("zz").toHex() + "\"}"), T0);
        s1Users.pipeInput(key("a2"), change("d", null), T0.plusSeconds(1));

        Map<String, ChunkStats> latest = chunkStats.readKeyValuesToMap();
        assertThat(latest.get("auth.users|").getDocumentCount()).isEqualTo(1);
        assertThat(latest.get("auth.users|" + m).getDocumentCount()).isEqualTo(2);
        assertThat(latest.get("auth.users|" + m).getDataBytes()).isPositive();
    }

    @Test
    void shouldMoveADocumentToItsNewChunkWhenTheRoutingChangedSinceItWasCounted() {
        configs.pipeInput("auth.users", NamespaceConfig.newBuilder().setNamespace("auth.users").setStrategy(ShardKeyStrategyType.TENANT)
            .setShardKeyFields(List.of("tenantId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build(), T0);
        routes.pipeInput("auth.users|", route("", null, "s1", 1), T0);
        s1Users.pipeInput(key("z1"), change("c", "{\"_id\": \"z1\", \"tenantId\": \"zeta\"}"), T0);
        routeUsersSplitAtM("s1", "s1", 2);

        s1Users.pipeInput(key("z1"), change("u", "{\"_id\": \"z1\", \"tenantId\": \"zeta\", \"n\": 1}"), T0.plusSeconds(1));

        Map<String, ChunkStats> latest = chunkStats.readKeyValuesToMap();
        String m = KeyEncoding.encode("m").toHex();
        assertThat(latest.get("auth.users|").getDocumentCount()).isZero();
        assertThat(latest.get("auth.users|" + m).getDocumentCount()).isEqualTo(1);
        assertThat(latestStats().get("s1").getDocumentCount()).as("the shard still holds one document").isEqualTo(1);
    }

    /** The sample as a compacted topic would hold it: tombstones remove. */
    private Map<String, KeySample> sampleNow(Map<String, KeySample> sample) {
        for (var record : keySamples.readRecordsToList()) {
            if (record.value() == null) {
                sample.remove(record.key());
            } else {
                sample.put(record.key(), record.value());
            }
        }
        return sample;
    }

    @Test
    void shouldSampleEveryDocumentWhileTheNamespaceFitsTheBoundAndCountItsWrites() {
        routeUsersSplitAtM("s1", "s1", 1);
        Map<String, KeySample> sample = new java.util.HashMap<>();
        for (int i = 0; i < 10; i++) {
            s1Users.pipeInput(key("u" + i), change("c", "{\"_id\": \"u" + i + "\", \"tenantId\": \"t" + i + "\"}"), T0);
        }
        s1Users.pipeInput(key("u3"), change("u", "{\"_id\": \"u3\", \"tenantId\": \"t3\", \"n\": 1}"), T0.plusSeconds(1));
        s1Users.pipeInput(key("u4"), change("d", null), T0.plusSeconds(1));

        sampleNow(sample);
        assertThat(sample).hasSize(9);
        String u3 = "auth.users|" + KeyEncoding.encode("t3").toHex() + "!s1!\"u3\"";
        assertThat(sample.get(u3).getWrites()).isEqualTo(2);
        assertThat(sample.keySet()).noneMatch(k -> k.contains("u4"));
    }

    @Test
    void shouldKeepTheSampleWithinItsBoundByRaisingTheLevelAndDroppingWhatNoLongerQualifies() {
        routeUsersSplitAtM("s1", "s1", 1);
        Map<String, KeySample> sample = new java.util.HashMap<>();
        int written = 2_000;
        for (int i = 0; i < written; i++) {
            s1Users.pipeInput(key("u" + i), change("c", "{\"_id\": \"u" + i + "\", \"tenantId\": \"t" + i + "\"}"), T0);
        }

        sampleNow(sample);
        assertThat(sample.size()).isBetween(SAMPLE_SIZE / 4, SAMPLE_SIZE);
        // Uniform: documents whose key sorts below "u5" make up about the same share of the sample as of what was written.
        long below = sample.values().stream().filter(v -> v.getDocumentKey().compareTo("\"u5") < 0).count();
        double expected = (double) java.util.stream.IntStream.range(0, written).filter(i -> ("\"u" + i).compareTo("\"u5") < 0).count() / written;
        assertThat((double) below / sample.size()).isBetween(expected - 0.2, expected + 0.2);
    }

    @Test
    void shouldSampleAsManyDocumentsAsTheConfiguredBoundAllows() {
        driver.close();
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "shard-size-test-small-sample");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        driver = new TopologyTestDriver(ShardSizeTopology.build(new ShardSizeTopology.Config("cdc", SHARDS, STATS, ROUTING, CONFIGS,
            CHUNK_STATS, DB_STATS, DLQ, KEY_SAMPLES, 4)), props);
        s1Users = driver.createInputTopic("cdc.s1.auth.users", new StringSerializer(), new StringSerializer());
        routes = driver.createInputTopic(ROUTING.name(), new StringSerializer(), ROUTING.valueSerde().serializer());
        configs = driver.createInputTopic(CONFIGS.name(), new StringSerializer(), CONFIGS.valueSerde().serializer());
        keySamples = driver.createOutputTopic(KEY_SAMPLES.name(), Serdes.String().deserializer(), KEY_SAMPLES.valueSerde().deserializer());
        routeUsersSplitAtM("s1", "s1", 1);
        for (int i = 0; i < 200; i++) {
            s1Users.pipeInput(key("u" + i), change("c", "{\"_id\": \"u" + i + "\", \"tenantId\": \"t" + i + "\"}"), T0);
        }

        assertThat(sampleNow(new java.util.HashMap<>()).size()).isBetween(1, 4);
    }

    private static String header(TestRecord<byte[], byte[]> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
