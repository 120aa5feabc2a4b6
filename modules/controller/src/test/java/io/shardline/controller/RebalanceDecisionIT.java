package io.shardline.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.bson.BsonDocument;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.codecs.BsonDocumentCodec;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.core.key.ShardKeyStrategies;
import io.shardline.core.routing.Chunk;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.MergeShards;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.SplitShard;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.testing.ShardContents;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;
import io.shardline.topology.balancer.BalancerSettings;

/**
 * Split and merge decisions on the real cluster: documents written into embedded shard s1 reach the controller through
 * Debezium, and its balancer decides on the commands topic. Other tests of this JVM leave documents on the shards, so
 * capacities are set from what each shard holds when the test starts.
 */
@ShardlineCluster
class RebalanceDecisionIT {

    private static final Logger LOG = LoggerFactory.getLogger(RebalanceDecisionIT.class);
    private static final Duration WINDOW = Duration.ofSeconds(1);
    private static final int SUSTAINED = 3;
    private static final long OPS_CAPACITY = 1_000_000;

    @Test
    void shouldSplitAShardFilledPastItsThresholdOnceAtAKeyHalvingItsDocumentsAndMergeOnceItIsDrained(EmbeddedCluster cluster, TestNames names)
        throws Exception {
        Fixture fixture = new Fixture(cluster, names);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (MongoClient s1 = MongoClients.create(cluster.shards().get("s1").connectionString());
             ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), fixture.catalog);
             ControllerNode controller = ControllerNode.start(fixture.config(), meters, Duration.ofSeconds(60))) {
            long capacity = fixture.prepare(publisher, s1);
            fixture.garbageOnQueryLoad();
            // A record nobody can read on a topic the controller keeps as a global store: skipped, and decisions go on.
            fixture.garbageOn(fixture.catalog.shards().name());

            MongoCollection<Document> sessions = s1.getDatabase(names.database()).getCollection("sessions");
            Instant crossed = fixture.fill(s1, sessions, capacity, 0.9);

            ShardCommand command = fixture.awaitCommand(c -> c.getCommand() instanceof SplitShard, Duration.ofSeconds(60));
            Instant decided = Instant.now();
            long millis = Duration.between(crossed, decided).toMillis();
            LOG.info("DECISION_LATENCY_MILLIS={} (sustained window {} ms, after it {} ms)", millis, SUSTAINED * WINDOW.toMillis(),
                millis - SUSTAINED * WINDOW.toMillis());
            SplitShard split = (SplitShard) command.getCommand();
            assertThat(split.getShardId()).isEqualTo("s1");
            assertThat(split.getNamespace()).isEqualTo(fixture.sessions);
            assertThat(split.getTargetShardId()).isEqualTo("s2");
            ShardKey splitKey = ShardKey.ofBytes(bytes(split.getSplitKey()));
            assertThat(splitKey).isGreaterThan(ShardKey.MIN);
            double below = fixture.fractionBelow(sessions, splitKey);
            assertThat(below).as("share of the chunk's documents below the split key").isBetween(0.4, 0.6);
            assertThat(fixture.awaitEvent(e -> command.getCommandId().equals(e.getCommandId()), Duration.ofSeconds(10)).getType())
                .isEqualTo(ShardEventType.SPLIT_DECIDED);

            Thread.sleep(5 * WINDOW.toMillis());
            assertThat(fixture.commands(c -> c.getCommand() instanceof SplitShard)).as("exactly one split").hasSize(1);
            assertThat(meters.get("shard.rebalancing.events").tag("shard", "s1").tag("type", "split_decided").counter().count())
                .as("shard_rebalancing_events_total of the split").isEqualTo(1.0);

            // Drained: the split's migration ends (aborted here: no worker runs), and the shard empties below 20%.
            sessions.deleteMany(new Document());
            fixture.awaitStats("s1", stats -> stats.getDataBytes() < 0.2 * capacity);
            fixture.migrationEnded(command.getCommandId());
            publisher.publishConfig(fixture.config(fixture.sessions, 0.2));
            publisher.publishConfig(fixture.config(fixture.users, 0.2));
            publisher.publishRouting(fixture.users, List.of(Chunk.active(fixture.users, KeyRange.ALL, "s2", 1, 1)));

            ShardCommand merge = fixture.awaitCommand(c -> c.getCommand() instanceof MergeShards, Duration.ofSeconds(60));
            assertThat(fixture.deadLetterOrigins(2)).as("the unreadable load sample and shard descriptor, with their origins")
                .containsExactlyInAnyOrder(fixture.catalog.queryLoad().name(), fixture.catalog.shards().name());
            MergeShards shards = (MergeShards) merge.getCommand();
            assertThat(List.of(shards.getSourceShardId(), shards.getTargetShardId())).containsExactlyInAnyOrder("s1", "s2");
            assertThat(fixture.awaitEvent(e -> merge.getCommandId().equals(e.getCommandId()), Duration.ofSeconds(10)).getType())
                .isEqualTo(ShardEventType.MERGE_DECIDED);
        }
    }

    @Test
    void shouldNeitherRepeatACommandNorLoseItsTablesWhenTheControllerIsStoppedMidStream(EmbeddedCluster cluster, TestNames names)
        throws Exception {
        Fixture fixture = new Fixture(cluster, names);
        try (MongoClient s1 = MongoClients.create(cluster.shards().get("s1").connectionString());
             ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), fixture.catalog)) {
            MongoCollection<Document> sessions = s1.getDatabase(names.database()).getCollection("sessions");
            long capacity;
            try (ControllerNode first = ControllerNode.start(fixture.config(), new SimpleMeterRegistry(), Duration.ofSeconds(60))) {
                capacity = fixture.prepare(publisher, s1);
                fixture.fill(s1, sessions, capacity, 0.9);
                fixture.awaitCommand(c -> c.getCommand() instanceof SplitShard, Duration.ofSeconds(60));
                // Stopped while the shard keeps changing.
                Thread writer = new Thread(() -> fixture.write(sessions, 300, 2_000));
                writer.start();
                Thread.sleep(200);
                first.close();
                writer.join();
            }
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            ControllerConfig restarted = fixture.config().withStateDir(Files.createTempDirectory("controller-restarted-"));
            try (ControllerNode second = ControllerNode.start(restarted, registry, Duration.ofSeconds(60))) {
                long truth = ShardContents.documentCount(s1);
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (System.nanoTime() < deadline && gauge(registry, "s1") != truth) {
                    Thread.sleep(100);
                }
                assertThat(gauge(registry, "s1")).as("documents on s1 after the restart").isEqualTo((double) truth);
                Thread.sleep(6 * WINDOW.toMillis());
                assertThat(fixture.commands(c -> true)).as("the split decided before the stop, and nothing more").hasSize(1);
            }
        }
    }

    private static double gauge(SimpleMeterRegistry registry, String shard) {
        var gauge = registry.find("shard.document.count").tag("shard", shard).gauge();
        return gauge == null ? -1 : gauge.value();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer copy = buffer.duplicate();
        byte[] raw = new byte[copy.remaining()];
        copy.get(raw);
        return raw;
    }

    /** One test's topics, namespaces and helpers. */
    private static final class Fixture {
        final EmbeddedCluster cluster;
        final TestNames names;
        final TopicCatalog catalog;
        final String sessions;
        final String users;
        final java.nio.file.Path state;
        private int written;

        Fixture(EmbeddedCluster cluster, TestNames names) throws Exception {
            this.cluster = cluster;
            this.names = names;
            this.catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
            ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
            this.sessions = names.database() + ".sessions";
            this.users = names.database() + ".users";
            this.state = Files.createTempDirectory("controller-decisions-");
        }

        ControllerConfig config() {
            return new ControllerConfig(cluster.bootstrapServers(), catalog, names.applicationId("controller"), state,
                Duration.ofMillis(100), Duration.ofSeconds(1), "cdc", Duration.ofSeconds(1),
                new BalancerSettings(WINDOW, 2, Duration.ofSeconds(2), Duration.ofMinutes(5), 1, BalancerSettings.DEFAULT_MERGE_HEADROOM, "controller"));
        }

        NamespaceConfig config(String namespace, double mergeRatio) {
            boolean hashed = namespace.equals(sessions);
            return NamespaceConfig.newBuilder().setNamespace(namespace)
                .setStrategy(hashed ? ShardKeyStrategyType.HASHED : ShardKeyStrategyType.TENANT)
                .setShardKeyFields(List.of(hashed ? "userId" : "tenantId"))
                .setThresholds(Thresholds.newBuilder().setSustainedWindows(SUSTAINED).setMergeRatio(mergeRatio).build())
                .setEpoch(1).setVersion(1).build();
        }

        /**
         * Registers s1 and s2 with a capacity that what s1 holds now fills to at most a tenth, and the sessions
         * namespace on s1 (no merges yet: a merge ratio of 0). Returns the capacity.
         */
        long prepare(ControlPlanePublisher publisher, MongoClient s1) throws Exception {
            long held = ShardContents.dataBytes(s1);
            long capacity = Math.max(200_000, held * 10);
            for (String shard : List.of("s1", "s2")) {
                publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shard)
                    .setConnectionString(cluster.shards().get(shard).connectionString()).setCapacityBytes(capacity)
                    .setCapacityOpsPerSec(OPS_CAPACITY).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
            }
            publisher.publishConfig(config(sessions, 0.0));
            publisher.publishConfig(config(users, 0.0));
            publisher.publishRouting(sessions, List.of(Chunk.active(sessions, KeyRange.ALL, "s1", 1, 1)));
            return capacity;
        }

        /** Inserts sessions until s1 holds {@code ratio} of its capacity; returns when the 80% mark was passed. */
        Instant fill(MongoClient s1, MongoCollection<Document> collection, long capacity, double ratio) {
            Instant crossed = null;
            long held = ShardContents.dataBytes(s1);
            while (held < ratio * capacity) {
                List<Document> batch = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    Document doc = session(written++);
                    batch.add(doc);
                    held += new RawBsonDocument(BsonDocument.parse(doc.toJson()), new BsonDocumentCodec()).getByteBuffer().remaining();
                }
                collection.insertMany(batch);
                if (crossed == null && held > 0.8 * capacity) {
                    crossed = Instant.now();
                }
            }
            return crossed;
        }

        void write(MongoCollection<Document> collection, int count, long millis) {
            long pause = Math.max(1, millis / count);
            for (int i = 0; i < count; i++) {
                collection.insertOne(session(written++));
                try {
                    Thread.sleep(pause);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }

        private static Document session(int n) {
            return new Document("_id", "sess-" + n).append("userId", "user-" + n).append("token", UUID.nameUUIDFromBytes(("t" + n).getBytes()).toString())
                .append("pad", "x".repeat(200));
        }

        double fractionBelow(MongoCollection<Document> collection, ShardKey splitKey) {
            var strategy = ShardKeyStrategies.of(config(sessions, 0.0));
            long below = 0;
            long all = 0;
            for (Document doc : collection.find()) {
                all++;
                if (strategy.keyOf(doc).compareTo(splitKey) < 0) {
                    below++;
                }
            }
            return (double) below / all;
        }

        void garbageOnQueryLoad() {
            garbageOn(catalog.queryLoad().name());
        }

        void garbageOn(String topic) {
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers()), new ByteArraySerializer(), new ByteArraySerializer())) {
                producer.send(new ProducerRecord<>(topic, "s9".getBytes(), "not avro".getBytes()));
            }
        }

        /** The source topics named by the first {@code count} records on the control DLQ. */
        List<String> deadLetterOrigins(int count) {
            Map<String, Object> props = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "dlq-" + UUID.randomUUID(), ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            List<String> origins = new java.util.ArrayList<>();
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new org.apache.kafka.common.serialization.ByteArrayDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
                List<TopicPartition> partitions = List.of(new TopicPartition(catalog.controlDlq().name(), 0));
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (origins.size() < count && System.nanoTime() < deadline) {
                    for (var record : consumer.poll(Duration.ofMillis(200))) {
                        Header topic = record.headers().lastHeader(io.shardline.schemas.DeadLetterHeaders.SOURCE_TOPIC);
                        origins.add(topic == null ? null : new String(topic.value()));
                    }
                }
            }
            return origins;
        }

        void migrationEnded(String commandId) {
            try (KafkaProducer<String, MigrationState> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                cluster.bootstrapServers()), catalog.migrations().keySerde().serializer(), catalog.migrations().valueSerde().serializer())) {
                producer.send(new ProducerRecord<>(catalog.migrations().name(), "m-" + commandId, MigrationState.newBuilder()
                    .setMigrationId("m-" + commandId).setCommandId(commandId).setNamespace(sessions).setChunkMin(ByteBuffer.allocate(0))
                    .setSourceShardId("s1").setTargetShardId("s2").setPhase(MigrationPhase.ABORTED).setStartedAt(Instant.now())
                    .setUpdatedAt(Instant.now()).build()));
            }
        }

        ShardCommand awaitCommand(Predicate<ShardCommand> wanted, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                List<ShardCommand> found = commands(wanted);
                if (!found.isEmpty()) {
                    return found.get(0);
                }
            }
            throw new AssertionError("no such command on " + catalog.commands().name() + " within " + timeout);
        }

        /** Waits until the controller's latest stats of a shard match. */
        void awaitStats(String shard, Predicate<io.shardline.schemas.avro.ShardStats> wanted) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                List<io.shardline.schemas.avro.ShardStats> all = read(catalog.stats(), stats -> stats.getShardId().equals(shard), Duration.ofMillis(300));
                if (!all.isEmpty() && wanted.test(all.get(all.size() - 1))) {
                    return;
                }
            }
            throw new AssertionError("the stats of " + shard + " never matched");
        }

        ShardEvent awaitEvent(Predicate<ShardEvent> wanted, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline) {
                List<ShardEvent> found = read(catalog.events(), wanted, Duration.ofMillis(500));
                if (!found.isEmpty()) {
                    return found.get(0);
                }
            }
            throw new AssertionError("no such event on " + catalog.events().name() + " within " + timeout);
        }

        List<ShardCommand> commands(Predicate<ShardCommand> wanted) {
            return read(catalog.commands(), wanted, Duration.ofMillis(500));
        }

        /** Everything committed on a topic so far that matches. */
        private <V> List<V> read(io.shardline.schemas.Topic<String, V> topic, Predicate<V> wanted, Duration quiet) {
            Map<String, Object> props = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "read-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            List<V> found = new ArrayList<>();
            try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(props, topic.keySerde().deserializer(), topic.valueSerde().deserializer())) {
                List<TopicPartition> partitions = List.of(new TopicPartition(topic.name(), 0));
                consumer.assign(partitions);
                consumer.seekToBeginning(partitions);
                long end = System.nanoTime() + quiet.toNanos();
                while (System.nanoTime() < end) {
                    consumer.poll(Duration.ofMillis(100)).forEach(record -> {
                        if (record.value() != null && wanted.test(record.value())) {
                            found.add(record.value());
                        }
                    });
                }
            }
            return found;
        }
    }
}
