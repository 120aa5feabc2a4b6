package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.Serde;
import org.bson.Document;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.RouterException;
import io.shardline.schemas.avro.QueryLoadSample;
import io.shardline.schemas.avro.RouterAck;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/** What a router publishes about itself: acks with its routing version and lease, and query load. */
@ShardlineCluster
class RouterSignalsIT {

    private static RouterFixture fixture;
    private static String ns;

    @BeforeAll
    static void layout(EmbeddedCluster cluster, TestNames names) {
        fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        ns = names.database() + ".sessions";
        fixture.namespace(ns, ShardKeyStrategyType.HASHED, List.of("userId"),
            InitialChunks.layout(ns, 1, InitialChunks.hashedBoundaries(4), List.of("s1", "s2")));
    }

    private static RouterConfig config() {
        return RouterConfig.defaults(fixture.cluster.bootstrapServers(), fixture.catalog);
    }

    @Test
    void shouldPublishItsAppliedRoutingVersionAndQueryLoadPerShardAndChunk() throws Exception {
        try (ShardRouter router = ShardRouter.start(config().withSignalInterval(Duration.ofMillis(200)).withRouterId("r-load"),
            new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
            router.insert("acme", ns, List.of(new Document("_id", 1).append("userId", "u1"), new Document("_id", 2).append("userId", "u2")));
            for (int i = 0; i < 5; i++) {
                router.find("acme", ns, FindRequest.of(new Document("userId", "u1")));
            }

            List<RouterAck> acks = read(fixture.catalog.routerAcks().name(), fixture.catalog.routerAcks().valueSerde(),
                (List<RouterAck> seen) -> seen.stream().anyMatch(a -> a.getRouterId().equals("r-load")));
            List<QueryLoadSample> samples = read(fixture.catalog.queryLoad().name(), fixture.catalog.queryLoad().valueSerde(),
                (List<QueryLoadSample> seen) -> seen.stream().filter(s -> s.getRouterId().equals("r-load"))
                    .mapToLong(QueryLoadSample::getReads).sum() >= 10);

            RouterAck ack = acks.stream().filter(a -> a.getRouterId().equals("r-load")).reduce((a, b) -> b).orElseThrow();
            assertThat(ack.getRoutingVersion()).isEqualTo(router.routingVersion());
            assertThat(ack.getLeaseExpiresAt()).isAfter(ack.getTimestamp());
            List<QueryLoadSample> mine = samples.stream().filter(s -> s.getRouterId().equals("r-load")).toList();
            assertThat(mine.stream().filter(s -> s.getNamespace() == null).mapToLong(QueryLoadSample::getReads).sum()).isEqualTo(5);
            assertThat(mine.stream().filter(s -> ns.equals(s.getNamespace())).mapToLong(QueryLoadSample::getReads).sum()).isEqualTo(5);
            assertThat(mine.stream().filter(s -> s.getNamespace() == null).mapToLong(QueryLoadSample::getWrites).sum()).isEqualTo(2);
        }
    }

    @Test
    void shouldRefuseWritesOnceItsLeaseRunsOutWithoutRenewal() throws Exception {
        try (ShardRouter router = ShardRouter.start(config().withSignalInterval(Duration.ofSeconds(30))
            .withLeaseDuration(Duration.ofMillis(150)).withRouterId("r-lease"), new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
            assertThat(router.leaseValid()).isTrue();
            assertThat(router.meterRegistry().get("router.lease.valid").gauge().value()).isEqualTo(1.0);
            Thread.sleep(400);

            assertThat(router.leaseValid()).isFalse();
            assertThat(router.meterRegistry().get("router.lease.valid").gauge().value()).as("what the RouterLeaseLapsed rule reads").isZero();
            assertThatThrownBy(() -> router.insert("acme", ns, List.of(new Document("_id", 9).append("userId", "u9"))))
                .isInstanceOf(RouterException.class)
                .hasMessageContaining("lease")
                .extracting(e -> ((RouterException) e).kind()).isEqualTo(RouterException.Kind.RETRYABLE);
            assertThat(router.count("acme", ns, new Document(), false)).as("reads are still served").isNotNegative();
        }
    }

    /**
     * A write checked against a valid lease, then held until the lease had run out and been renewed (its shards stopped
     * answering meanwhile, as a router paused past its lease would hold it): once the shard takes it, it is not
     * acknowledged, since a migration could have cut its range over without this router's ack in between.
     */
    @Test
    void shouldNotAcknowledgeAWriteItsShardAnsweredAfterTheLeaseBroke() throws Exception {
        try (ShardRouter router = ShardRouter.start(config().withSignalInterval(Duration.ofMillis(1500)).withLeaseDuration(Duration.ofMillis(500))
            .withShardTimeout(Duration.ofSeconds(15)).withRouterId("r-lapse"), new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
            awaitLease(router, false);
            awaitLease(router, true);
            fixture.cluster.shards().get("s1").stopAnswering();
            fixture.cluster.shards().get("s2").stopAnswering();
            java.util.concurrent.CompletableFuture<Object> held;
            try {
                held = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> router.insert("acme", ns, List.of(new Document("_id", "held").append("userId", "u-held"))));
                awaitLease(router, false);
                awaitLease(router, true);
                assertThat(held).as("still held by the shard").isNotDone();
            } finally {
                fixture.cluster.shards().get("s1").answerAgain();
                fixture.cluster.shards().get("s2").answerAgain();
            }

            assertThat(held).failsWithin(Duration.ofSeconds(30)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
                .havingCause().isInstanceOfSatisfying(RouterException.class, e -> {
                    assertThat(e.kind()).isEqualTo(RouterException.Kind.LEASE_LAPSED);
                    assertThat(e.getMessage()).contains("lease ran out before the shard answered");
                });
            assertThat(router.count("acme", ns, new Document("_id", "held"), false)).as("applied, just not acknowledged").isEqualTo(1);
            awaitLease(router, false);
            awaitLease(router, true);
            assertThat(router.insert("acme", ns, List.of(new Document("_id", "after").append("userId", "u-after"))).inserted())
                .as("a write sent and answered within one lease is acknowledged").isEqualTo(1);
        }
    }

    private static void awaitLease(ShardRouter router, boolean valid) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (router.leaseValid() != valid) {
            assertThat(System.nanoTime()).as("the lease %s", valid ? "renewed" : "run out").isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    @Test
    void shouldRefuseReadsOnceItsRoutingIsUnconfirmedForLongerThanTheReadStalenessItAllows() throws Exception {
        try (ShardRouter router = ShardRouter.start(config().withSignalInterval(Duration.ofSeconds(30))
            .withLeaseDuration(Duration.ofMillis(150)).withMaxReadStaleness(Duration.ofMillis(200)).withShardTimeout(Duration.ofMillis(300))
            .withRouterId("r-stale"), new SimpleMeterRegistry(), Duration.ofSeconds(30))) {
            assertThat(router.count("acme", ns, new Document(), false)).as("fresh routing").isNotNegative();
            Thread.sleep(200);
            assertThat(router.leaseValid()).isFalse();
            assertThat(router.count("acme", ns, new Document(), false)).as("lapsed, but within the staleness allowed").isNotNegative();
            Thread.sleep(400);

            assertThatThrownBy(() -> router.find("acme", ns, FindRequest.of(new Document())))
                .isInstanceOf(RouterException.class)
                .hasMessageContaining("routing: this router has not confirmed its routing")
                .extracting(e -> ((RouterException) e).kind()).isEqualTo(RouterException.Kind.RETRYABLE);
        }
    }

    private static <V> List<V> read(String topic, Serde<V> serde, Predicate<List<V>> done) {
        Map<String, Object> config = Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, fixture.cluster.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "signals-" + UUID.randomUUID(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<V> values = new ArrayList<>();
        try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(config, org.apache.kafka.common.serialization.Serdes.String().deserializer(),
            serde.deserializer())) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!done.test(values) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, V> record : consumer.poll(Duration.ofMillis(200))) {
                    values.add(record.value());
                }
            }
        }
        return values;
    }
}
