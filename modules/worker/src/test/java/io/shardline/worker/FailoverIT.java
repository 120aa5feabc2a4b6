package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.bson.Document;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.backup.ChangeRecord;
import io.shardline.controlplane.TopicTable;
import io.shardline.controlplane.TopicTail;
import io.shardline.embedded.ConnectorTemplate;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.TopicCatalog;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.Scope;
import io.shardline.schemas.avro.AddStandby;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardHealth;
import io.shardline.schemas.avro.WriteDurability;
import io.shardline.shard.EmbeddedShard;
import io.shardline.standby.StandbySinkConnector;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * A shard with a standby is killed under a write load through the router: the worker marks it DOWN, promotes the
 * standby once it has applied every captured change, points the shard's CDC connector at it and publishes the shard's
 * new address; the router writes to it. With durability STANDBY (the default) no acknowledged write is lost; with
 * PRIMARY the writes lost are exactly ones the CDC topics never captured. The old primary, back, is wiped and becomes
 * the standby; a second failover back to it works the same way.
 */
@ShardlineCluster
class FailoverIT {

    @Test
    void shouldPromoteTheStandbyOfAKilledShardAndTakeTheOldPrimaryBackAsStandby(EmbeddedCluster cluster, TestNames names) throws Exception {
        String primaryId = "f" + UUID.randomUUID().toString().substring(0, 6);
        EmbeddedShard primary = cluster.addShard(primaryId);
        EmbeddedShard standby = EmbeddedShard.start(primaryId + "-standby");
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5), List.of(primaryId, "s2"), List.of(primaryId, primaryId));
             TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), false, fixture.catalog.controlDlq().name(), "test");
             TopicTable<ShardDescriptor> shards = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.shards(), fixture.catalog.controlDlq().name(), "test");
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withConnectUrl(cluster.connectUrl()), new SimpleMeterRegistry())) {
            MigrationFixture.Load load = fixture.new Load(2, 2);
            fixture.send(AddStandby.newBuilder().setShardId(primaryId).setConnectionString(standby.connectionString()).build());
            await(() -> standby.connectionString().equals(shards.refresh().get(primaryId).getStandbyConnectionString()), Duration.ofSeconds(90), "the standby added");
            Thread.sleep(3_000);
            durabilityCost(fixture, 200);

            // First failover: the primary stops answering under load.
            Outcome first = killAndFailOver(fixture, primary, standby.connectionString(), events, shards, primaryId);

            // The old primary comes back: wiped, seeded, its standby.
            primary.answerAgain();
            await(() -> primary.connectionString().equals(shards.refresh().get(primaryId).getStandbyConnectionString()), Duration.ofSeconds(90),
                "the old primary back as the standby");
            assertThat(shards.get(primaryId).getFailedOverFrom()).isNull();
            Thread.sleep(3_000);

            // Second failover, back to it.
            Outcome second = killAndFailOver(fixture, standby, primary.connectionString(), events, shards, primaryId);
            load.close();

            Map<String, Boolean> lost = lost(fixture, load, primary.connectionString(), primaryId);
            for (Outcome outcome : List.of(first, second)) {
                System.out.printf("failover: DOWN %d ms after the kill, the failover published %d ms after it, a write accepted on the standby "
                    + "%d ms after it; promotion %s%n", outcome.downMillis, outcome.publishedMillis, outcome.servingMillis, outcome.failedOver.getFigures());
                assertThat(outcome.failedOver.getFigures()).containsKeys("downMillis", "promotionMillis");
            }
            System.out.printf("over both failovers, durability STANDBY: %d acknowledged writes, %d failed, %d lost: %s%n", load.writes.get(),
                load.failures.get(), lost.size(), lost.keySet());
            assertThat(lost).as("acknowledged writes lost (durability STANDBY: none may be)").isEmpty();
            assertThat(load.writes.get()).as("acknowledged writes").isGreaterThan(100);
            assertThat(ConnectorTemplate.load(ConnectorTemplate.MONGODB_SHARD).render(Map.of("SHARD_ID", primaryId, "MONGODB_URI", "mongodb://x",
                "REPLICATION_FACTOR", "1"))).as("the connector a failover repoints").contains("\"name\": \"shardline-cdc-" + primaryId + "\"");
        } finally {
            deleteFailoverConnectors(cluster, primaryId);
            standby.close();
            cluster.removeShard(primaryId);
        }
    }

    @Test
    void shouldLoseOnlyUncapturedWritesWithPrimaryDurabilityAndNotAcknowledgeWritesTheStandbyDoesNotConfirm(EmbeddedCluster cluster, TestNames names)
            throws Exception {
        String primaryId = "p" + UUID.randomUUID().toString().substring(0, 6);
        EmbeddedShard primary = cluster.addShard(primaryId);
        EmbeddedShard standby = EmbeddedShard.start(primaryId + "-standby");
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5), List.of(primaryId, "s2"), List.of(primaryId, primaryId));
             TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), false, fixture.catalog.controlDlq().name(), "test");
             TopicTable<ShardDescriptor> shards = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.shards(), fixture.catalog.controlDlq().name(), "test");
             ShardRouter impatient = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog)
                 .withStandbyAckTimeout(Duration.ofMillis(800)), new SimpleMeterRegistry(), Duration.ofSeconds(60));
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withConnectUrl(cluster.connectUrl()), new SimpleMeterRegistry())) {
            fixture.send(AddStandby.newBuilder().setShardId(primaryId).setConnectionString(standby.connectionString()).build());
            await(() -> standby.connectionString().equals(shards.refresh().get(primaryId).getStandbyConnectionString()), Duration.ofSeconds(90), "the standby added");
            await(() -> impatient.health().shardsDown().isEmpty() && tryInsert(impatient, fixture.namespace, null, "warm-" + UUID.randomUUID()) == null,
                Duration.ofSeconds(30), "a first write through the second router");

            // The standby's sink paused: a STANDBY write is applied on the shard but not acknowledged; a PRIMARY one is.
            String sink = StandbySinkConnector.name(primaryId);
            cluster.connect().rest().stop(sink);
            await(() -> "STOPPED".equals(connectorState(cluster, sink)), Duration.ofSeconds(30), "the standby's sink stopped");
            long started = System.nanoTime();
            RouterException unconfirmed = tryInsert(impatient, fixture.namespace, WriteDurability.STANDBY, "unconfirmed");
            long waitedMillis = Duration.ofNanos(System.nanoTime() - started).toMillis();
            assertThat(unconfirmed).as("a STANDBY write while the standby applies nothing").isNotNull();
            assertThat(unconfirmed.kind()).isEqualTo(RouterException.Kind.STANDBY_UNCONFIRMED);
            assertThat(unconfirmed.getMessage()).contains("did not confirm it within 800 ms");
            assertThat(waitedMillis).as("the write waited out the router's standby ack timeout").isGreaterThanOrEqualTo(800);
            assertThat(tryInsert(impatient, fixture.namespace, WriteDurability.PRIMARY, "primary-only")).as("a PRIMARY write").isNull();
            cluster.connect().rest().resume(sink);
            await(() -> tryInsert(impatient, fixture.namespace, WriteDurability.STANDBY, "confirmed-" + UUID.randomUUID()) == null, Duration.ofSeconds(30),
                "a STANDBY write confirmed once the sink runs again");
            System.out.printf("a STANDBY write with the standby's sink stopped failed after %d ms: %s%n", waitedMillis, unconfirmed.getMessage());

            MigrationFixture.Load load = fixture.new Load(2, 2, WriteDurability.PRIMARY);
            Thread.sleep(2_000);
            Outcome outcome = killAndFailOver(fixture, primary, standby.connectionString(), events, shards, primaryId);
            load.close();
            Map<String, Boolean> lost = lost(fixture, load, standby.connectionString(), primaryId);
            System.out.printf("failover with durability PRIMARY: DOWN %d ms after the kill, a write accepted on the standby %d ms after it; "
                + "%d acknowledged writes, %d lost, all of them writes the CDC topics had not captured at the kill: %s%n",
                outcome.downMillis, outcome.servingMillis, load.writes.get(), lost.size(), lost.keySet());
            assertThat(lost).as("lost writes the CDC topics had captured (a promoted standby has applied all of those)").doesNotContainValue(true);
            assertThat(load.writes.get()).as("acknowledged writes").isGreaterThan(100);
        } finally {
            deleteFailoverConnectors(cluster, primaryId);
            standby.close();
            cluster.removeShard(primaryId);
        }
    }

    /** Inserts one document through the router with the durability; the refusal, or {@code null} once acknowledged. */
    private static RouterException tryInsert(ShardRouter router, String namespace, WriteDurability durability, String id) {
        try {
            router.insert(Scope.tenant(MigrationFixture.TENANT).withDurability(durability), namespace,
                List.of(new Document("_id", id).append("userId", id).append("v", 0)));
            return null;
        } catch (RouterException refused) {
            return refused;
        }
    }

    private static String connectorState(EmbeddedCluster cluster, String connector) {
        try {
            return cluster.connect().rest().state(connector);
        } catch (Exception e) {
            return "unknown: " + e.getMessage();
        }
    }

    /**
     * The latency cost of durability STANDBY, measured side by side: single-document inserts from one thread,
     * alternating STANDBY and PRIMARY, with no other load.
     */
    private static void durabilityCost(MigrationFixture fixture, int writes) {
        Map<WriteDurability, List<Long>> micros = new java.util.EnumMap<>(WriteDurability.class);
        for (int i = 0; i < 2 * writes; i++) {
            WriteDurability durability = i % 2 == 0 ? WriteDurability.STANDBY : WriteDurability.PRIMARY;
            String id = "cost-" + i;
            long started = System.nanoTime();
            fixture.router.insert(Scope.tenant(MigrationFixture.TENANT).withDurability(durability), fixture.namespace,
                List.of(new Document("_id", id).append("userId", id).append("v", 0)));
            micros.computeIfAbsent(durability, d -> new ArrayList<>()).add((System.nanoTime() - started) / 1_000);
        }
        Map<WriteDurability, long[]> percentiles = new java.util.EnumMap<>(WriteDurability.class);
        micros.forEach((durability, values) -> {
            java.util.Collections.sort(values);
            percentiles.put(durability, new long[] {values.get(values.size() / 2), values.get(values.size() * 99 / 100)});
        });
        long[] standby = percentiles.get(WriteDurability.STANDBY);
        long[] primary = percentiles.get(WriteDurability.PRIMARY);
        System.out.printf("durability cost, %d single inserts each: STANDBY p50 %.2f ms p99 %.2f ms; PRIMARY p50 %.2f ms p99 %.2f ms; "
            + "ratio p50 %.1fx p99 %.1fx%n", writes, standby[0] / 1e3, standby[1] / 1e3, primary[0] / 1e3, primary[1] / 1e3,
            (double) standby[0] / primary[0], (double) standby[1] / primary[1]);
    }

    record Outcome(long downMillis, long publishedMillis, long servingMillis, ShardEvent failedOver) {
    }

    private static Outcome killAndFailOver(MigrationFixture fixture, EmbeddedShard dying, String standbyUri, TopicTail<ShardEvent> events,
                                           TopicTable<ShardDescriptor> shards, String shardId) throws Exception {
        return failOver(fixture, dying::stopAnswering, dying.connectionString(), standbyUri, events, shards, shardId);
    }

    /** What takes a shard away: it stops answering, or the network to it is cut. */
    interface Outage {
        void begin() throws Exception;
    }

    /**
     * Takes the shard away under the running load, then writes through the router until a write is accepted on the
     * promoted standby; checks the failover's descriptor and returns its timings.
     */
    static Outcome failOver(MigrationFixture fixture, Outage outage, String dyingUri, String standbyUri, TopicTail<ShardEvent> events,
                            TopicTable<ShardDescriptor> shards, String shardId) throws Exception {
        long killed = System.nanoTime();
        java.time.Instant killedAt = java.time.Instant.now();
        outage.begin();
        ShardEvent down = awaitEvent(events, ShardEventType.SHARD_DOWN, shardId, Duration.ofSeconds(30));
        long downAt = System.nanoTime();
        long serving = -1;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        int attempt = 0;
        List<String> refusals = new ArrayList<>();
        List<Long> refusedMicros = new ArrayList<>();
        while (serving < 0 && System.nanoTime() < deadline) {
            long sent = System.nanoTime();
            try {
                fixture.router.insert(MigrationFixture.TENANT, fixture.namespace, List.of(new Document("_id", "probe-" + UUID.randomUUID())
                    .append("userId", "probe-" + attempt++).append("v", 0)));
                if (standbyUri.equals(shards.refresh().get(shardId).getConnectionString())) {
                    serving = System.nanoTime();
                }
            } catch (RuntimeException refused) {
                refusedMicros.add((System.nanoTime() - sent) / 1_000);
                refusals.add(Duration.ofNanos(System.nanoTime() - killed).toMillis() + " ms: " + refused.getMessage());
                Thread.sleep(20);
            }
        }
        ShardEvent failedOver = awaitEvent(events, ShardEventType.SHARD_FAILED_OVER, shardId, Duration.ofSeconds(30));
        java.util.Collections.sort(refusedMicros);
        System.out.printf("writes refused between DOWN and the failover: %d, answered in p50 %.2f ms, p99 %.2f ms; the last: %s%n", refusals.size(),
            refusedMicros.isEmpty() ? 0 : refusedMicros.get(refusedMicros.size() / 2) / 1e3,
            refusedMicros.isEmpty() ? 0 : refusedMicros.get(refusedMicros.size() * 99 / 100) / 1e3,
            refusals.subList(Math.max(0, refusals.size() - 3), refusals.size()));
        ShardDescriptor promoted = shards.refresh().get(shardId);
        assertThat(down.getReason()).contains("is DOWN");
        assertThat(serving).as("a write accepted on the promoted standby").isPositive();
        assertThat(promoted.getConnectionString()).isEqualTo(standbyUri);
        assertThat(promoted.getHealth()).isEqualTo(ShardHealth.UP);
        assertThat(promoted.getFailedOverFrom()).isEqualTo(dyingUri);
        assertThat(promoted.getStandbyConnectionString()).isNull();

        return new Outcome(Duration.ofNanos(downAt - killed).toMillis(), Duration.between(killedAt, failedOver.getTimestamp()).toMillis(),
            Duration.ofNanos(serving - killed).toMillis(), failedOver);
    }

    /** Acknowledged writes the shard does not hold as acknowledged: by id, whether the CDC topics had captured them. */
    static Map<String, Boolean> lost(MigrationFixture fixture, MigrationFixture.Load load, String shardUri, String shardId) {
        Map<String, Integer> held = new HashMap<>();
        try (MongoClient client = MongoClients.create(shardUri)) {
            int dot = fixture.namespace.indexOf('.');
            client.getDatabase(fixture.namespace.substring(0, dot)).getCollection(fixture.namespace.substring(dot + 1)).find()
                .forEach(doc -> held.put(String.valueOf(doc.get("_id")), doc.getInteger("v", -2)));
        }
        return lost(load, held, captured(fixture, shardId));
    }

    /**
     * Acknowledged writes whose value is not the one {@code held} (by id; -1 for none): by id and value, whether
     * {@code captured} (the CDC topics' last value per id) had that value, i.e. whether a standby had to hold it.
     */
    static Map<String, Boolean> lost(MigrationFixture.Load load, Map<String, Integer> held, Map<String, Integer> captured) {
        Map<String, Boolean> lost = new java.util.TreeMap<>();
        load.acknowledged.forEach((id, value) -> {
            if (!load.uncertain.containsKey(id) && held.getOrDefault(id, -1).intValue() != value) {
                lost.put(id + "=" + value + " (found " + held.getOrDefault(id, -1) + ")", captured.getOrDefault(id, -3).intValue() == value);
            }
        });
        return lost;
    }

    /** Deletes the connectors a failover of the shard left: its CDC connector deployed anew, its standby's sink. */
    static void deleteFailoverConnectors(EmbeddedCluster cluster, String shardId) throws Exception {
        for (String connector : cluster.connect().rest().connectors().keySet()) {
            if (connector.startsWith("shardline-cdc-" + shardId + "-") || connector.equals("shardline-standby-" + shardId)) {
                cluster.connect().rest().delete(connector);
            }
        }
    }

    /** The last value the CDC topic of the fixture's namespace captured per document id (-1 for a delete). */
    static Map<String, Integer> captured(MigrationFixture fixture, String shardId) {
        Map<String, Integer> values = new HashMap<>();
        TopicPartition partition = new TopicPartition(TopicCatalog.cdcTopic(shardId, fixture.namespace), 0);
        try (KafkaConsumer<byte[], byte[]> consumer = KafkaClients.fromEnvironment(fixture.cluster.bootstrapServers()).bytesReader(null, Map.of())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            while (consumer.position(partition) < end) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                    ChangeRecord change = ChangeRecord.of(record);
                    String id = change.id().isString() ? change.id().asString().getValue() : change.id().toString();
                    values.put(id, change.after() == null ? -1 : change.after().getInt32("v", new org.bson.BsonInt32(-2)).getValue());
                }
            }
        }
        return values;
    }

    static ShardEvent awaitEvent(TopicTail<ShardEvent> events, ShardEventType type, String shard, Duration timeout) {
        List<String> seen = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (TopicTail.Appended<ShardEvent> appended : events.poll(Duration.ofMillis(50))) {
                seen.add(appended.value().getType() + ": " + appended.value().getReason());
                if (appended.value().getType() == type && shard.equals(appended.value().getShardId())) {
                    return appended.value();
                }
            }
        }
        throw new AssertionError("no " + type + " for " + shard + "; events seen: " + seen);
    }

    static void await(java.util.function.BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(100);
        }
    }
}
