package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.DeadLetterHeaders;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MergeShards;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.SplitShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;
import io.shardline.core.key.KeyHex;
import io.shardline.controlplane.TopicTable;

/** The commands a worker carries out besides a single move, and the ones it refuses. */
@ShardlineCluster
class MigrationCommandsIT {

    @Test
    void shouldSendInvalidCommandsToTheDlqWithTheFieldAtFaultAndCarryOutARepeatedCommandOnce(EmbeddedCluster cluster, TestNames names) throws Exception {
        io.micrometer.core.instrument.simple.SimpleMeterRegistry meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5));
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withCopyLatencyTarget(Duration.ZERO)
                 .withCopyBatchSize(50).withCopyStreams(3), meters)) {
            for (int i = 0; i < 1_000; i++) {
                fixture.router.insert(MigrationFixture.TENANT, fixture.namespace, List.of(new org.bson.Document("_id", "c" + i).append("userId", "c" + i)));
            }
            String lower = fixture.chunks.get(0).min().toHex();
            fixture.send(MoveChunk.newBuilder().setNamespace(fixture.namespace).setChunkMin(KeyHex.bytes(lower)).setTargetShardId("nowhere").build());
            fixture.send(MoveChunk.newBuilder().setNamespace(fixture.namespace).setChunkMin(KeyHex.bytes("ab")).setTargetShardId("s2").build());
            fixture.send(MoveChunk.newBuilder().setNamespace(fixture.namespace).setChunkMin(KeyHex.bytes(lower)).setTargetShardId("s1").build());

            List<ConsumerRecord<byte[], byte[]>> letters = deadLetters(fixture, 3);
            assertThat(letters).extracting(r -> header(r, DeadLetterHeaders.FIELD))
                .containsExactly("command.targetShardId", "command.chunkMin", "command.targetShardId");
            assertThat(header(letters.get(0), DeadLetterHeaders.EXCEPTION_MESSAGE)).contains("no shard nowhere is registered");
            assertThat(header(letters.get(2), DeadLetterHeaders.EXCEPTION_MESSAGE)).contains("the chunk is on s1 already");
            assertThat(header(letters.get(0), DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo(fixture.catalog.commands().name());

            String command = fixture.moveLowerChunk();
            // A second move of the same chunk right behind it: the route is not MIGRATING yet, the migrations table says it is planned.
            String twice = fixture.moveLowerChunk();
            List<ConsumerRecord<byte[], byte[]>> all = deadLetters(fixture, 4);
            assertThat(header(all.get(3), DeadLetterHeaders.FIELD)).isEqualTo("command.chunkMin");
            assertThat(header(all.get(3), DeadLetterHeaders.EXCEPTION_MESSAGE)).contains("is migrating (planned");
            fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofMinutes(1));
            assertThat(fixture.migrationOf(twice)).as("no migration of the second move").isNull();
            assertThat(meters.get("shard.migration.copy.throttled").timer().count())
                .as("a latency target of zero pauses the copy after every batch").isPositive();
            assertThat(eventReasons(fixture)).as("the copy's batches are written by parallel writers")
                .anyMatch(reason -> reason.contains("COPYING -> CATCHING_UP") && reason.contains("by 3 writers"));
            fixture.resend(command);
            Thread.sleep(2_000);
            try (TopicTable<io.shardline.schemas.avro.MigrationState> migrations = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.migrations(), fixture.catalog.controlDlq().name(), "test")) {
                assertThat(migrations.refresh().values().values()).filteredOn(m -> m.getCommandId().equals(command)).hasSize(1)
                    .allMatch(m -> m.getPhase() == MigrationPhase.CLEANED);
            }
        }
    }

    @Test
    void shouldSplitAChunkAtItsMedianAndMoveTheUpperHalfThenMergeAShardAwayAndRetireIt(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5));
             MigrationWorker worker = fixture.worker(fixture.workerConfig())) {
            MigrationFixture.Load load = fixture.new Load(2, 1);
            Thread.sleep(2_000);
            String lower = fixture.chunks.get(0).min().toHex();

            String split = fixture.send(SplitShard.newBuilder().setShardId("s1").setNamespace(fixture.namespace).setChunkMin(KeyHex.bytes(lower))
                .setTargetShardId("s2").build());
            fixture.awaitMigration(split, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofMinutes(1));
            try (TopicTable<ChunkRoute> routing = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.routing(), fixture.catalog.controlDlq().name(), "test")) {
                List<ChunkRoute> chunks = routing.refresh().values().values().stream().filter(r -> r.getNamespace().equals(fixture.namespace)).toList();
                assertThat(chunks).hasSize(3);
                assertThat(chunks).filteredOn(r -> r.getShardId().equals("s2")).hasSize(1);
            }
            long moved = fixture.documents("s2").size();
            long stayed = fixture.documents("s1").values().stream().filter(d -> inChunk(d.getString("_sk"), fixture.chunks.get(0))).count();
            assertThat((double) moved / (moved + stayed)).as("share of the split chunk's documents on the new shard").isBetween(0.3, 0.7);

            String merge = fixture.send(MergeShards.newBuilder().setSourceShardId("s2").setTargetShardId("s1").build());
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            ShardDescriptor s2 = null;
            try (TopicTable<ShardDescriptor> shards = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.shards(), fixture.catalog.controlDlq().name(), "test")) {
                while (System.nanoTime() < deadline) {
                    s2 = shards.refresh().get("s2");
                    if (s2.getState() == ShardState.RETIRED) {
                        break;
                    }
                    Thread.sleep(100);
                }
            }
            load.close();
            assertThat(s2.getState()).isEqualTo(ShardState.RETIRED);
            assertThat(fixture.migrationOf(merge).getPhase()).isEqualTo(MigrationPhase.CLEANED);
            assertThat(fixture.documents("s2")).isEmpty();
            fixture.check(load);
        }
    }

    @Test
    void shouldDrainAShardMovingEveryChunkAwayAndRetireIt(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5));
             MigrationWorker worker = fixture.worker(fixture.workerConfig())) {
            MigrationFixture.Load load = fixture.new Load(2, 1);
            Thread.sleep(1_500);
            fixture.send(io.shardline.schemas.avro.DrainShard.newBuilder().setShardId("s1").build());
            ShardDescriptor s1 = null;
            try (TopicTable<ShardDescriptor> shards = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.shards(), fixture.catalog.controlDlq().name(), "test")) {
                long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
                while (System.nanoTime() < deadline) {
                    s1 = shards.refresh().get("s1");
                    if (s1.getState() == ShardState.RETIRED) {
                        break;
                    }
                    Thread.sleep(100);
                }
            }
            load.close();
            assertThat(s1.getState()).isEqualTo(ShardState.RETIRED);
            assertThat(fixture.documents("s1")).as("nothing left on the drained shard").isEmpty();
            fixture.check(load);
        }
    }

    @Test
    void shouldEvenOutANamespacesChunksOverTheActiveShardsAndRegisterAnAddedShardOnce(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5));
             MigrationWorker worker = fixture.worker(fixture.workerConfig())) {
            for (int i = 0; i < 200; i++) {
                fixture.router.insert(MigrationFixture.TENANT, fixture.namespace, List.of(new org.bson.Document("_id", "r" + i).append("userId", "r" + i)));
            }
            String rebalance = fixture.send(io.shardline.schemas.avro.Rebalance.newBuilder().setNamespace(fixture.namespace).build());
            fixture.awaitMigration(rebalance, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofMinutes(1));
            try (TopicTable<ChunkRoute> routing = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.routing(), fixture.catalog.controlDlq().name(), "test")) {
                assertThat(routing.refresh().values().values()).filteredOn(r -> r.getNamespace().equals(fixture.namespace))
                    .extracting(ChunkRoute::getShardId).containsExactlyInAnyOrder("s1", "s2");
            }
            fixture.send(io.shardline.schemas.avro.Rebalance.newBuilder().setNamespace(fixture.namespace).build());

            ShardDescriptor added = ShardDescriptor.newBuilder().setShardId("s9").setConnectionString(cluster.shards().get("s2").connectionString())
                .setCapacityBytes(1L << 30).setCapacityOpsPerSec(1_000).setState(ShardState.ACTIVE).setVersion(1)
                .setUpdatedAt(java.time.Instant.now()).build();
            fixture.send(io.shardline.schemas.avro.AddShard.newBuilder().setShard(added).build());
            fixture.send(io.shardline.schemas.avro.AddShard.newBuilder().setShard(added).build());

            List<ConsumerRecord<byte[], byte[]>> letters = deadLetters(fixture, 1);
            assertThat(letters).extracting(r -> header(r, DeadLetterHeaders.FIELD)).containsExactly("command.shard.shardId");
            assertThat(header(letters.get(0), DeadLetterHeaders.EXCEPTION_MESSAGE)).contains("registered already");
            try (TopicTable<ShardDescriptor> shards = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.shards(), fixture.catalog.controlDlq().name(), "test")) {
                assertThat(shards.refresh().get("s9").getConnectionString()).isEqualTo(added.getConnectionString());
            }
            assertThat(eventReasons(fixture)).contains("rebalance: 1 chunk moves planned, in 1 rounds of disjoint shard pairs", "rebalance: 0 chunk moves planned, in 0 rounds of disjoint shard pairs")
                .anyMatch(reason -> reason.startsWith("shard s9 registered at "));
        }
    }

    /**
     * A command whose handling fails (its shard refuses connections) keeps its offset and is retried with a growing
     * back-off; once the shard answers, it is carried out (here: refused, the chunk being empty), and the commands after
     * it are carried out by the same loop.
     */
    @Test
    void shouldRetryACommandWhoseShardRefusesUntilItAnswersAndGoOnWithTheNextCommands(EmbeddedCluster cluster, TestNames names) throws Exception {
        io.micrometer.core.instrument.simple.SimpleMeterRegistry meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5));
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig(), meters)) {
            fixture.publisher.publishShard(ShardDescriptor.newBuilder().setShardId("s3")
                .setConnectionString("mongodb://127.0.0.1:" + port + "/?serverSelectionTimeoutMS=300&connectTimeoutMS=300")
                .setCapacityBytes(1L << 30).setCapacityOpsPerSec(100_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(java.time.Instant.now())
                .build());
            String other = names.database() + ".sessions";
            fixture.publisher.publishRouting(other, io.shardline.core.routing.InitialChunks.layout(other, 1, List.of(), List.of("s3")));
            // No split key: the worker reads the chunk's median key from s3, which refuses connections.
            fixture.send(SplitShard.newBuilder().setShardId("s3").setNamespace(other).setChunkMin(KeyHex.bytes("")).setTargetShardId("s1").build());
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (meters.counter("shard.commands.retried", "worker", worker.workerId()).count() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(meters.counter("shard.commands.retried", "worker", worker.workerId()).count()).as("retries while s3 refuses").isGreaterThanOrEqualTo(3);
            assertThat(deadLetters(fixture, 1, Duration.ofSeconds(1))).as("a command that failed is not given up").isEmpty();

            try (io.shardline.shard.EmbeddedShard s3 = io.shardline.shard.EmbeddedShard.start("s3",
                io.shardline.shard.EmbeddedShardConfig.defaults("s3").withPort(port))) {
                List<ConsumerRecord<byte[], byte[]>> letters = deadLetters(fixture, 1);
                assertThat(letters).extracting(r -> header(r, DeadLetterHeaders.FIELD)).containsExactly("command.splitKey");
                assertThat(header(letters.get(0), DeadLetterHeaders.EXCEPTION_MESSAGE)).contains("holds no key to split at");
                String next = fixture.moveLowerChunk();
                fixture.awaitMigration(next, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofMinutes(1));
            }
        }
    }

    private static boolean inChunk(String key, io.shardline.core.routing.Chunk chunk) {
        return key.compareTo(chunk.min().toHex()) >= 0 && (chunk.max() == null || key.compareTo(chunk.max().toHex()) < 0);
    }

    private static List<ConsumerRecord<byte[], byte[]>> deadLetters(MigrationFixture fixture, int count) {
        return deadLetters(fixture, count, Duration.ofSeconds(60));
    }

    /** The commands DLQ's records, read until {@code count} came or {@code wait} passed. */
    private static List<ConsumerRecord<byte[], byte[]>> deadLetters(MigrationFixture fixture, int count, Duration wait) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, fixture.cluster.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "dlq-" + UUID.randomUUID()), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(fixture.catalog.commandsDlq().name(), 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            List<ConsumerRecord<byte[], byte[]>> letters = new java.util.ArrayList<>();
            long deadline = System.nanoTime() + wait.toNanos();
            while (letters.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(letters::add);
            }
            return letters;
        }
    }

    static List<String> eventReasons(MigrationFixture fixture) {
        try (KafkaConsumer<String, io.shardline.schemas.avro.ShardEvent> consumer = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, fixture.cluster.bootstrapServers(), ConsumerConfig.GROUP_ID_CONFIG, "events-" + UUID.randomUUID()),
            new org.apache.kafka.common.serialization.StringDeserializer(), fixture.catalog.events().valueSerde().deserializer())) {
            TopicPartition partition = new TopicPartition(fixture.catalog.events().name(), 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            List<String> reasons = new java.util.ArrayList<>();
            while (consumer.position(partition) < end) {
                consumer.poll(Duration.ofMillis(200)).forEach(record -> reasons.add(record.value().getReason()));
            }
            return reasons;
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        var header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }
}
