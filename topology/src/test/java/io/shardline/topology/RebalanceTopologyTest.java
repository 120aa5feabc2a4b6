package io.shardline.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import io.shardline.core.key.KeyEncoding;
import io.shardline.schemas.Topic;
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
import io.shardline.schemas.avro.ShardHealth;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.schemas.avro.SplitShard;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.topology.balancer.BalancerSettings;
import io.shardline.topology.internal.AvroBinarySerde;

/**
 * The balancer's rules on the test driver: three shards of 1,000 bytes and 100 ops/s each, one namespace with a
 * chunk on each shard ({@code [-inf, k50)} on s1, {@code [k50, k80)} on s2, {@code [k80, +inf)} on s3), decision
 * windows of 10 s moved by the driver's wall clock.
 */
class RebalanceTopologyTest {

    private static final String NS = "auth.sessions";
    private static final Duration WINDOW = Duration.ofSeconds(10);
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private static <V extends org.apache.avro.specific.SpecificRecord> Topic<String, V> topic(String name, Class<V> type) {
        return new Topic<>("t." + name, Serdes.String(), AvroBinarySerde.of(type), Topic.Cleanup.COMPACT, Duration.ZERO);
    }

    private static final RebalanceTopology.Config TOPICS = new RebalanceTopology.Config(topic("shards", ShardDescriptor.class),
        topic("config", NamespaceConfig.class), topic("routing", ChunkRoute.class), topic("shard-sizes", ShardStats.class),
        topic("chunk-sizes", ChunkStats.class), topic("query-load", QueryLoadSample.class), topic("migrations", MigrationState.class),
        topic("key-samples", KeySample.class), topic("commands", ShardCommand.class), topic("events", ShardEvent.class),
        topic("stats", ShardStats.class), topic("chunk-stats", ChunkStats.class),
        new BalancerSettings(WINDOW, 2, Duration.ofSeconds(60), Duration.ofSeconds(120), 1, BalancerSettings.DEFAULT_MERGE_HEADROOM, "controller"));

    private TopologyTestDriver driver;
    private TestInputTopic<String, ShardDescriptor> shards;
    private TestInputTopic<String, NamespaceConfig> configs;
    private TestInputTopic<String, ChunkRoute> routes;
    private TestInputTopic<String, ShardStats> stats;
    private TestInputTopic<String, ChunkStats> chunkStats;
    private TestInputTopic<String, QueryLoadSample> load;
    private TestInputTopic<String, MigrationState> migrations;
    private TestInputTopic<String, KeySample> samples;
    private TestOutputTopic<String, ShardCommand> commands;
    private TestOutputTopic<String, ShardEvent> events;
    private TestOutputTopic<String, ShardStats> table;
    private TestOutputTopic<String, ChunkStats> chunkTable;

    @BeforeEach
    void start() {
        start(TOPICS.settings());
        for (String shard : List.of("s1", "s2", "s3")) {
            shards.pipeInput(shard, shard(shard, ShardState.ACTIVE), T0);
        }
        configure(Thresholds.newBuilder().build());
        routes.pipeInput(NS + "|", route("", key(50), "s1", 1, null), T0);
        routes.pipeInput(NS + "|" + key(50), route(key(50), key(80), "s2", 1, null), T0);
        routes.pipeInput(NS + "|" + key(80), route(key(80), null, "s3", 1, null), T0);
    }

    private void start(BalancerSettings settings) {
        if (driver != null) {
            driver.close();
        }
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "rebalance-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        RebalanceTopology.Config config = new RebalanceTopology.Config(TOPICS.shards(), TOPICS.configs(), TOPICS.routing(), TOPICS.shardSizes(),
            TOPICS.chunkSizes(), TOPICS.queryLoad(), TOPICS.migrations(), TOPICS.keySamples(), TOPICS.commands(), TOPICS.events(),
            TOPICS.stats(), TOPICS.chunkStats(), settings);
        driver = new TopologyTestDriver(RebalanceTopology.build(config), props, T0);
        shards = input(TOPICS.shards());
        configs = input(TOPICS.configs());
        routes = input(TOPICS.routing());
        stats = input(TOPICS.shardSizes());
        chunkStats = input(TOPICS.chunkSizes());
        table = driver.createOutputTopic(TOPICS.stats().name(), Serdes.String().deserializer(), TOPICS.stats().valueSerde().deserializer());
        chunkTable = driver.createOutputTopic(TOPICS.chunkStats().name(), Serdes.String().deserializer(), TOPICS.chunkStats().valueSerde().deserializer());
        load = input(TOPICS.queryLoad());
        migrations = input(TOPICS.migrations());
        samples = input(TOPICS.keySamples());
        commands = driver.createOutputTopic(TOPICS.commands().name(), Serdes.String().deserializer(), TOPICS.commands().valueSerde().deserializer());
        events = driver.createOutputTopic(TOPICS.events().name(), Serdes.String().deserializer(), TOPICS.events().valueSerde().deserializer());
    }

    private <V> TestInputTopic<String, V> input(Topic<String, V> topic) {
        return driver.createInputTopic(topic.name(), new StringSerializer(), topic.valueSerde().serializer());
    }

    @AfterEach
    void close() {
        driver.close();
    }

    // ---------------------------------------------------------------- fixtures

    private static String key(int n) {
        return KeyEncoding.encode(String.format("k%03d", n)).toHex();
    }

    private static ByteBuffer bytes(String hex) {
        return ByteBuffer.wrap(HexFormat.of().parseHex(hex));
    }

    private static String hex(ByteBuffer buffer) {
        ByteBuffer copy = buffer.duplicate();
        byte[] raw = new byte[copy.remaining()];
        copy.get(raw);
        return HexFormat.of().formatHex(raw);
    }

    private static ShardDescriptor shard(String id, ShardState state) {
        return ShardDescriptor.newBuilder().setShardId(id).setConnectionString("mongodb://" + id + "/").setCapacityBytes(1_000)
            .setCapacityOpsPerSec(100).setState(state).setVersion(1).setUpdatedAt(T0).build();
    }

    private void configure(Thresholds thresholds) {
        configs.pipeInput(NS, NamespaceConfig.newBuilder().setNamespace(NS).setStrategy(ShardKeyStrategyType.HASHED)
            .setShardKeyFields(List.of("userId")).setThresholds(thresholds).setEpoch(1).setVersion(1).build(), T0);
    }

    private static ChunkRoute route(String minHex, String maxHex, String shard, long version, Instant splitByLoadAt) {
        return ChunkRoute.newBuilder().setNamespace(NS).setMin(bytes(minHex)).setMax(maxHex == null ? null : bytes(maxHex))
            .setShardId(shard).setEpoch(1).setVersion(version).setSplitByLoadAt(splitByLoadAt).build();
    }

    private Instant now() {
        return T0;
    }

    private void size(String shard, long bytes) {
        stats.pipeInput(shard, ShardStats.newBuilder().setShardId(shard).setDocumentCount(bytes / 10).setDataBytes(bytes)
            .setUpdatedAt(T0).build(), T0);
    }

    private void sizeWithWrites(String shard, long bytes, long writes) {
        stats.pipeInput(shard, ShardStats.newBuilder().setShardId(shard).setDocumentCount(bytes / 10).setDataBytes(bytes).setWrites(writes)
            .setUpdatedAt(T0).build(), T0);
    }

    /** Sizes after a window in which s1 held 30% of its capacity: s1 has filled and shrunk since. */
    private void filledThenShrank(long s1, long s2, long s3) {
        sizes(300, s2, s3);
        window();
        sizes(s1, s2, s3);
    }

    private void sizes(long s1, long s2, long s3) {
        size("s1", s1);
        size("s2", s2);
        size("s3", s3);
    }

    /** Reads and writes routers report for a shard (and its chunk) over one window. */
    private void ops(String shard, String chunkMinHex, long reads, long writes) {
        load.pipeInput(shard, QueryLoadSample.newBuilder().setRouterId("r1").setShardId(shard)
            .setReads(reads).setWrites(writes).build(), T0);
        load.pipeInput(shard, QueryLoadSample.newBuilder().setRouterId("r1").setShardId(shard).setNamespace(NS)
            .setChunkMin(bytes(chunkMinHex)).setReads(reads).setWrites(writes).build(), T0);
    }

    /** Samples documents with keys k{from} .. k{to-1} on a shard, each written {@code writes} times. */
    private void sample(String shard, int from, int to, long writes) {
        for (int n = from; n < to; n++) {
            sampleKey(shard, key(n), "d" + n, writes);
        }
    }

    private void sampleKey(String shard, String keyHex, String doc, long writes) {
        samples.pipeInput(TopicCatalog.keySampleKey(NS, keyHex, shard, doc), KeySample.newBuilder().setNamespace(NS).setShardKey(bytes(keyHex))
            .setShardId(shard).setDocumentKey(doc).setWrites(writes).setUpdatedAt(T0).build(), T0);
    }

    private void window() {
        driver.advanceWallClockTime(WINDOW);
    }

    private void windows(int n) {
        for (int i = 0; i < n; i++) {
            window();
        }
    }

    private void migration(String id, String commandId, String source, String target, MigrationPhase phase) {
        migrations.pipeInput(id, MigrationState.newBuilder().setMigrationId(id).setCommandId(commandId).setNamespace(NS)
            .setChunkMin(bytes("")).setSourceShardId(source).setTargetShardId(target).setPhase(phase).setStartedAt(T0)
            .setUpdatedAt(T0).build(), T0);
    }

    // ---------------------------------------------------------------- splits

    @Test
    void shouldSplitAShardOverItsStorageThresholdForTheSustainedWindowsAtTheMedianKeyAndMoveHalfToTheLeastUsedShard() {
        sample("s1", 0, 40, 1);
        sizes(850, 100, 300);

        windows(2);
        assertThat(commands.isEmpty()).as("two windows are not sustained").isTrue();
        window();

        ShardCommand command = commands.readValue();
        assertThat(command.getIssuer()).isEqualTo("controller");
        SplitShard split = (SplitShard) command.getCommand();
        assertThat(split.getShardId()).isEqualTo("s1");
        assertThat(split.getNamespace()).isEqualTo(NS);
        assertThat(hex(split.getChunkMin())).isEmpty();
        assertThat(hex(split.getSplitKey())).isEqualTo(key(20));
        assertThat(split.getTargetShardId()).isEqualTo("s2");
        assertThat(split.getByLoad()).isFalse();
        ShardEvent event = events.readValue();
        assertThat(event.getType()).isEqualTo(ShardEventType.SPLIT_DECIDED);
        assertThat(event.getCommandId()).isEqualTo(command.getCommandId());
        assertThat(event.getReason()).contains("storage 85.0% over 80.0%");
        assertThat(event.getFigures()).containsEntry("storageRatio", 0.85).containsEntry("fractionBelowSplitKey", 0.5)
            .containsEntry("sustainedWindows", 3.0);

        windows(5);
        assertThat(commands.isEmpty()).as("the shard is busy with its split").isTrue();
    }

    @Test
    void shouldSplitByLoadAtTheKeyThatHalvesTheWritesWhenQueryLoadStaysOverItsThreshold() {
        sample("s1", 0, 10, 1);
        sample("s1", 10, 20, 9);
        sizes(300, 100, 100);
        for (int i = 0; i < 3; i++) {
            ops("s1", "", 500, 300); // 80 ops/s of 100
            window();
        }

        SplitShard split = (SplitShard) commands.readValue().getCommand();
        assertThat(split.getByLoad()).isTrue();
        // Writes: k0..k9 weigh 1 each, k10..k19 weigh 9 each (100 in all): half the writes lie below k14.
        assertThat(hex(split.getSplitKey())).isIn(key(14), key(15));
        assertThat(events.readValue().getReason()).contains("query load 80.0% over 70.0%");
    }

    @Test
    void shouldCountWritesThatBypassTheRoutersFromTheCdcCounters() {
        sample("s1", 0, 40, 1);
        sizes(300, 300, 300);
        long writes = 1_000;
        sizeWithWrites("s1", 300, writes);
        window(); // the first window only learns the counter
        for (int i = 0; i < 3; i++) {
            writes += 800; // 80 writes/s, no router involved
            sizeWithWrites("s1", 300, writes);
            window();
        }

        SplitShard split = (SplitShard) commands.readValue().getCommand();
        assertThat(split.getByLoad()).isTrue();
        assertThat(split.getShardId()).isEqualTo("s1");
    }

    @Test
    void shouldPublishTheTablesOfEveryShardAndChunkOnceAWindow() {
        sizes(250, 300, 300);
        ops("s1", "", 300, 100);
        window();

        java.util.Map<String, ShardStats> shards = table.readKeyValuesToMap();
        assertThat(shards).containsOnlyKeys("s1", "s2", "s3");
        ShardStats s1 = shards.get("s1");
        assertThat(s1.getDataBytes()).isEqualTo(250);
        assertThat(s1.getStorageRatio()).isEqualTo(0.25);
        assertThat(s1.getReadsPerSec()).isEqualTo(30.0);
        assertThat(s1.getWritesPerSec()).isEqualTo(10.0);
        assertThat(s1.getLoadRatio()).isEqualTo(0.4);
        ChunkStats chunk = chunkTable.readKeyValuesToMap().get(NS + "|");
        assertThat(chunk.getShardId()).isEqualTo("s1");
        assertThat(chunk.getReadsPerSec()).isEqualTo(30.0);
        assertThat(hex(chunk.getChunkMax())).isEqualTo(key(50));
    }

    @Test
    void shouldPublishAChunksRowAgainOnlyWhenItsFiguresChange() {
        sizes(250, 300, 300);
        ops("s1", "", 300, 100);
        window();
        assertThat(chunkTable.readKeyValuesToMap()).as("every chunk's row once after the start")
            .containsOnlyKeys(NS + "|", NS + "|" + key(50), NS + "|" + key(80));

        window();
        java.util.Map<String, ChunkStats> decayed = chunkTable.readKeyValuesToMap();
        assertThat(decayed).as("only the chunk whose load fell to nothing").containsOnlyKeys(NS + "|");
        assertThat(decayed.get(NS + "|").getReadsPerSec()).isZero();

        window();
        assertThat(chunkTable.readKeyValuesToMap()).as("a window that changed nothing").isEmpty();
        assertThat(table.readKeyValuesToMap()).as("the shards' table goes out every window").containsOnlyKeys("s1", "s2", "s3");

        ops("s2", key(50), 50, 0);
        window();
        java.util.Map<String, ChunkStats> loaded = chunkTable.readKeyValuesToMap();
        assertThat(loaded).containsOnlyKeys(NS + "|" + key(50));
        assertThat(loaded.get(NS + "|" + key(50)).getReadsPerSec()).isEqualTo(5.0);
    }

    @Test
    void shouldNotSplitOnABriefSpike() {
        sample("s1", 0, 40, 1);
        sizes(900, 300, 300);
        windows(2);
        size("s1", 500);
        windows(6);

        assertThat(commands.isEmpty()).isTrue();
    }

    @Test
    void shouldNotFlapWhenLoadOscillatesAroundTheThreshold() {
        sample("s1", 0, 40, 1);
        sizes(300, 300, 300);
        for (int i = 0; i < 12; i++) {
            long ops = i % 2 == 0 ? 750 : 650; // 75 ops/s, then 65 ops/s, around the 70% threshold
            ops("s1", "", ops, 0);
            window();
        }

        assertThat(commands.isEmpty()).as("neither split nor merge").isTrue();
        assertThat(events.isEmpty()).isTrue();
    }

    @Test
    void shouldNotDecideForAShardThatIsAlreadyMigratingUntilItsMigrationEnds() {
        sample("s1", 0, 40, 1);
        sizes(900, 100, 100);
        migration("m1", "c-earlier", "s1", "s3", MigrationPhase.COPYING);
        windows(5);
        assertThat(commands.isEmpty()).isTrue();

        migration("m1", "c-earlier", "s1", "s3", MigrationPhase.CLEANED);
        window();

        assertThat(((SplitShard) commands.readValue().getCommand()).getShardId()).isEqualTo("s1");
    }

    @Test
    void shouldDecideNothingFromADownShardsFiguresAndCountItsWindowsAfreshOnceItIsUp() {
        sample("s1", 0, 40, 1);
        sizes(900, 100, 100);
        shards.pipeInput("s1", ShardDescriptor.newBuilder(shard("s1", ShardState.ACTIVE)).setHealth(ShardHealth.DOWN).setVersion(2).build(), T0);
        windows(5);
        assertThat(commands.isEmpty()).as("no split of a DOWN shard").isTrue();

        shards.pipeInput("s1", ShardDescriptor.newBuilder(shard("s1", ShardState.ACTIVE)).setVersion(3).build(), T0);
        windows(2);
        assertThat(commands.isEmpty()).as("the windows while DOWN do not count towards the sustained three").isTrue();
        window();
        assertThat(((SplitShard) commands.readValue().getCommand()).getShardId()).isEqualTo("s1");
    }

    @Test
    void shouldNotMoveAChunkOntoADownShard() {
        sample("s1", 0, 40, 1);
        sizes(900, 300, 100);
        shards.pipeInput("s3", ShardDescriptor.newBuilder(shard("s3", ShardState.ACTIVE)).setHealth(ShardHealth.DOWN).setVersion(2).build(), T0);
        windows(3);

        assertThat(((SplitShard) commands.readValue().getCommand()).getTargetShardId()).as("the least used shard that answers").isEqualTo("s2");
    }

    @Test
    void shouldKeepAShardOutOfDecisionsDuringItsCooldownEvenAfterItsMigrationEnded() {
        sample("s1", 0, 40, 1);
        sizes(900, 100, 100);
        windows(3);
        ShardCommand first = commands.readValue();
        migration("m1", first.getCommandId(), "s1", "s2", MigrationPhase.CLEANED);

        windows(4); // 40 s of the 60 s cooldown
        assertThat(commands.isEmpty()).as("cooldown in force").isTrue();

        windows(2);
        assertThat(((SplitShard) commands.readValue().getCommand()).getShardId()).isEqualTo("s1");
    }

    @Test
    void shouldFreeAShardWhoseCommandTimedOutWithoutAMigration() {
        start(TOPICS.settings().withShardCooldown(Duration.ZERO).withCommandTimeout(Duration.ofSeconds(30)));
        for (String shard : List.of("s1", "s2", "s3")) {
            shards.pipeInput(shard, shard(shard, ShardState.ACTIVE), T0);
        }
        configure(Thresholds.newBuilder().build());
        routes.pipeInput(NS + "|", route("", null, "s1", 1, null), T0);
        sample("s1", 0, 40, 1);
        sizes(900, 100, 100);

        windows(3);
        assertThat(commands.readValuesToList()).hasSize(1);
        windows(2);
        assertThat(commands.isEmpty()).as("command pending").isTrue();
        windows(2);
        assertThat(commands.readValuesToList()).as("timed out: decided again").hasSize(1);
    }

    @Test
    void shouldReportASingleKeyHotChunkOnceInsteadOfRetryingItForever() {
        for (int i = 0; i < 30; i++) {
            sampleKey("s1", key(7), "d" + i, 5);
        }
        sizes(950, 300, 300);

        windows(10);

        assertThat(commands.isEmpty()).isTrue();
        List<ShardEvent> reported = events.readValuesToList();
        assertThat(reported).hasSize(1);
        assertThat(reported.get(0).getType()).isEqualTo(ShardEventType.CHUNK_UNSPLITTABLE);
        assertThat(reported.get(0).getFigures()).containsEntry("sampledDocuments", 30.0);
    }

    @Test
    void shouldMoveTheNextChunkAwayWhenTheHotChunkCannotBeSplit() {
        routes.pipeInput(NS + "|", route("", key(20), "s1", 2, null), T0);
        routes.pipeInput(NS + "|" + key(20), route(key(20), key(50), "s1", 2, null), T0);
        for (int i = 0; i < 30; i++) {
            sampleKey("s1", key(7), "d" + i, 5);
        }
        for (int i = 0; i < 10; i++) {
            sampleKey("s1", key(25), "e" + i, 1);
        }
        chunkStats.pipeInput(NS + "|", ChunkStats.newBuilder().setNamespace(NS).setChunkMin(bytes("")).setShardId("s1")
            .setDocumentCount(80).setDataBytes(800).setUpdatedAt(T0).build(), T0);
        chunkStats.pipeInput(NS + "|" + key(20), ChunkStats.newBuilder().setNamespace(NS).setChunkMin(bytes(key(20))).setShardId("s1")
            .setDocumentCount(10).setDataBytes(100).setUpdatedAt(T0).build(), T0);
        sizes(900, 100, 300);

        windows(3);

        MoveChunk move = (MoveChunk) commands.readValue().getCommand();
        assertThat(hex(move.getChunkMin())).isEqualTo(key(20));
        assertThat(move.getTargetShardId()).isEqualTo("s2");
        assertThat(events.readValuesToList()).extracting(ShardEvent::getType)
            .containsExactly(ShardEventType.CHUNK_UNSPLITTABLE, ShardEventType.CHUNK_UNSPLITTABLE, ShardEventType.MOVE_DECIDED);
    }

    @Test
    void shouldWaitForAKeySampleRatherThanGuessASplitPoint() {
        sizes(900, 300, 300);
        windows(4);
        assertThat(commands.isEmpty()).isTrue();

        sample("s1", 0, 10, 1);
        window();
        assertThat(hex(((SplitShard) commands.readValue().getCommand()).getSplitKey())).isEqualTo(key(5));
    }

    @Test
    void shouldHonourTheGlobalCapOnConcurrentMigrations() {
        start(TOPICS.settings().withMaxConcurrentMigrations(1));
        for (String shard : List.of("s1", "s2", "s3", "s4")) {
            shards.pipeInput(shard, shard(shard, ShardState.ACTIVE), T0);
        }
        routes.pipeInput(NS + "|", route("", key(50), "s1", 1, null), T0);
        routes.pipeInput(NS + "|" + key(50), route(key(50), key(80), "s2", 1, null), T0);
        routes.pipeInput(NS + "|" + key(80), route(key(80), null, "s3", 1, null), T0);
        sample("s1", 0, 40, 1);
        sample("s3", 80, 99, 1);
        sizes(900, 100, 950);
        size("s4", 0);

        windows(4);

        List<ShardCommand> decided = commands.readValuesToList();
        assertThat(decided).hasSize(1);
        assertThat(((SplitShard) decided.get(0).getCommand()).getShardId()).as("the most severe first").isEqualTo("s3");
    }

    @Test
    void shouldApplyEachNamespacesThresholdsAndSustainedWindows() {
        configure(Thresholds.newBuilder().setSplitStorageRatio(0.5).setSustainedWindows(1).build());
        sample("s1", 0, 40, 1);
        sizes(600, 100, 100);

        window();

        assertThat(events.readValue().getReason()).contains("storage 60.0% over 50.0%");
    }

    @Test
    void shouldNotSplitIntoAShardThatIsItselfOverItsThresholds() {
        sample("s1", 0, 40, 1);
        sizes(900, 850, 820);
        sample("s2", 50, 60, 1);
        sample("s3", 80, 90, 1);

        windows(5);

        assertThat(commands.isEmpty()).isTrue();
    }

    // ---------------------------------------------------------------- merges

    @Test
    void shouldMergeAnIdleShardIntoTheShardThatStaysLeastUsedAfterwards() {
        filledThenShrank(50, 100, 150);

        windows(2);
        assertThat(commands.isEmpty()).isTrue();
        window();

        List<ShardCommand> decided = commands.readValuesToList();
        assertThat(decided).hasSize(1);
        MergeShards merge = (MergeShards) decided.get(0).getCommand();
        assertThat(merge.getSourceShardId()).isEqualTo("s1");
        assertThat(merge.getTargetShardId()).isEqualTo("s2");
        ShardEvent event = events.readValue();
        assertThat(event.getType()).isEqualTo(ShardEventType.MERGE_DECIDED);
        assertThat(event.getFigures()).containsEntry("targetStorageRatioAfter", 0.15);
    }

    @Test
    void shouldNeverMergeAShardThatNeverHeldDataOverItsMergeRatio() {
        sizes(0, 50, 100);

        windows(6);

        assertThat(commands.isEmpty()).as("new, empty shards wait for growth").isTrue();
    }

    @Test
    void shouldNotMergeWhenTheTargetWouldEndUpOverHalfItsSplitThresholds() {
        filledThenShrank(150, 300, 300);

        windows(6);

        assertThat(commands.isEmpty()).isTrue();
    }

    @Test
    void shouldNotMergeWhenTheTargetsLoadWouldEndUpOverHalfItsSplitThreshold() {
        filledThenShrank(50, 300, 300);
        for (int i = 0; i < 6; i++) {
            ops("s1", "", 100, 0); // 10 ops/s
            ops("s2", key(50), 300, 0); // 30 ops/s: with s1's, 40% > 35%
            ops("s3", key(80), 300, 0);
            window();
        }

        assertThat(commands.isEmpty()).isTrue();
    }

    @Test
    void shouldNotMergeAShardHoldingAChunkSplitByLoadBeforeItsMinimumAge() {
        routes.pipeInput(NS + "|", route("", key(50), "s1", 2, T0.minus(Duration.ofMinutes(5))), T0);
        filledThenShrank(50, 300, 700);

        windows(4);
        assertThat(commands.isEmpty()).as("the chunk is 5 of the 10 minutes old").isTrue();

        windows(31); // past ten minutes
        assertThat(((MergeShards) commands.readValue().getCommand()).getSourceShardId()).isEqualTo("s1");
    }

    @Test
    void shouldNeverMergeBelowTheMinimumNumberOfActiveShards() {
        start(TOPICS.settings().withMinActiveShards(3));
        for (String shard : List.of("s1", "s2", "s3")) {
            shards.pipeInput(shard, shard(shard, ShardState.ACTIVE), T0);
        }
        routes.pipeInput(NS + "|", route("", key(50), "s1", 1, null), T0);
        routes.pipeInput(NS + "|" + key(50), route(key(50), null, "s2", 1, null), T0);
        filledThenShrank(50, 100, 150);

        windows(6);

        assertThat(commands.isEmpty()).isTrue();
    }

    @Test
    void shouldNotMergeAShardThatOwnsNothingOrHasNoSizesYet() {
        shards.pipeInput("s4", shard("s4", ShardState.ACTIVE), T0);
        sizes(500, 500, 500);

        windows(6);

        assertThat(commands.isEmpty()).as("s4 owns no chunk and has reported no size").isTrue();
    }

    @Test
    void shouldHoldAMergeWhileAShardNearItsSplitThresholdWouldHaveNoSplitTargetLeft() {
        filledThenShrank(50, 100, 750); // s3 at 75%: within 10% of its 80% split threshold

        windows(6);
        assertThat(commands.isEmpty()).as("s1 and s2, the merge's own shards, are the only ones that could take half of s3").isTrue();

        size("s3", 500);
        window();
        MergeShards merge = (MergeShards) commands.readValue().getCommand();
        assertThat(merge.getSourceShardId()).isEqualTo("s1");
        assertThat(merge.getTargetShardId()).isEqualTo("s2");
    }

    @Test
    void shouldJudgeWhetherAShardIsNearItsSplitThresholdByTheMergeHeadroomSetting() {
        startThreeShards(TOPICS.settings().withMergeHeadroom(0.25));
        filledThenShrank(50, 100, 650); // s3 at 65%: within 25% of its 80% split threshold, not within 10%

        windows(6);
        assertThat(commands.isEmpty()).isTrue();

        startThreeShards(TOPICS.settings());
        filledThenShrank(50, 100, 650);

        windows(3);
        assertThat(((MergeShards) commands.readValue().getCommand()).getSourceShardId()).isEqualTo("s1");
    }

    /** A fresh driver with the three shards, the namespace and its chunks of {@link #start()}, under other settings. */
    private void startThreeShards(BalancerSettings settings) {
        start(settings);
        for (String shard : List.of("s1", "s2", "s3")) {
            shards.pipeInput(shard, shard(shard, ShardState.ACTIVE), T0);
        }
        configure(Thresholds.newBuilder().build());
        routes.pipeInput(NS + "|", route("", key(50), "s1", 1, null), T0);
        routes.pipeInput(NS + "|" + key(50), route(key(50), key(80), "s2", 1, null), T0);
        routes.pipeInput(NS + "|" + key(80), route(key(80), null, "s3", 1, null), T0);
    }

    @Test
    void shouldDecideOnlyOnceAWindowHasPassed() {
        start(TOPICS.settings().withDecisionWindow(Duration.ofSeconds(30)));
        for (String shard : List.of("s1", "s2")) {
            shards.pipeInput(shard, shard(shard, ShardState.ACTIVE), T0);
        }
        routes.pipeInput(NS + "|", route("", null, "s1", 1, null), T0);
        sample("s1", 0, 40, 1);
        size("s1", 900);
        size("s2", 0);

        windows(6); // 60 s: two windows of 30 s
        assertThat(commands.isEmpty()).isTrue();
        windows(3);
        assertThat(commands.readValuesToList()).hasSize(1);
    }

    @Test
    void shouldRejectSettingsThatCannotWork() {
        assertThatThrownBy(() -> TOPICS.settings().withMaxConcurrentMigrations(0)).hasMessageContaining("maxConcurrentMigrations");
        assertThatThrownBy(() -> TOPICS.settings().withDecisionWindow(Duration.ZERO)).hasMessageContaining("decisionWindow");
        assertThatThrownBy(() -> TOPICS.settings().withMinActiveShards(0)).hasMessageContaining("minActiveShards");
        assertThatThrownBy(() -> TOPICS.settings().withMergeHeadroom(1.0)).hasMessageContaining("mergeHeadroom");
        assertThatThrownBy(() -> TOPICS.settings().withMergeHeadroom(Double.NaN)).hasMessageContaining("mergeHeadroom");
    }
}
