package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.bson.Document;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.Chunk;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.Scope;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * A router with a local routing store starts from it and reads only the routing records published after it: and it
 * ends with exactly the routing of a router that read the whole topic. A store it must not trust (of another topic,
 * unreadable, or older than half the topic's tombstone retention) is ignored and the whole topic read.
 */
@ShardlineCluster
class RoutingStoreIT {

    private static EmbeddedCluster cluster;

    @BeforeAll
    static void start(EmbeddedCluster embedded) {
        cluster = embedded;
    }

    @Test
    void shouldStartFromTheStoreAndReadOnlyWhatWasPublishedAfterIt(TestNames names, @TempDir Path store) throws Exception {
        RouterFixture fixture = fixture(names);
        String ns = names.database() + ".sessions";
        List<Chunk> chunks = layout(ns, 8);
        fixture.namespace(ns, ShardKeyStrategyType.TENANT, List.of("tenantId"), chunks);
        try (ShardRouter first = router(fixture, store)) {
            assertThat(gauge(first, "routing.store.chunks.loaded")).isZero();
            assertThat(counter(first, "routing.records.read")).isEqualTo(8);
        }
        assertThat(store.resolve("routing.avro")).exists();

        // while no router runs: a move, a split, and a merge of the last two chunks (a tombstone)
        fixture.publisher.publishChunk(chunks.get(0).withOwner("s2", 2, chunks.get(0).state(), null));
        ShardKey at = KeyEncoding.encode("u15");
        fixture.publisher.publishChunk(Chunk.active(ns, new KeyRange(chunks.get(1).min(), at), "s1", 1, 3));
        fixture.publisher.publishChunk(Chunk.active(ns, new KeyRange(at, chunks.get(1).max()), "s2", 1, 3));
        fixture.publisher.publishChunk(Chunk.active(ns, new KeyRange(chunks.get(6).min(), null), "s1", 1, 4));
        tombstone(fixture.catalog, ns, chunks.get(7).min());

        try (ShardRouter restarted = router(fixture, store); ShardRouter whole = router(fixture, null)) {
            assertThat(gauge(restarted, "routing.store.chunks.loaded")).isEqualTo(8);
            assertThat(counter(restarted, "routing.records.read")).isEqualTo(5);
            assertThat(counter(whole, "routing.records.read")).isEqualTo(13);
            List<String> expected = whole.explain(Scope.service(), ns, new Document()).chunks();
            assertThat(expected).hasSize(8).contains("[MIN, " + chunks.get(0).max().toHex().toUpperCase() + ")@s2 v2");
            assertThat(restarted.explain(Scope.service(), ns, new Document()).chunks()).isEqualTo(expected);
            assertThat(restarted.routingVersion()).isEqualTo(whole.routingVersion());
        }
    }

    @Test
    void shouldReadTheWholeTopicWhenTheStoreCannotBeTrusted(TestNames names, @TempDir Path store) throws Exception {
        RouterFixture fixture = fixture(names);
        String ns = names.database() + ".users";
        fixture.namespace(ns, ShardKeyStrategyType.TENANT, List.of("tenantId"), layout(ns, 4));
        try (ShardRouter first = router(fixture, store)) {
            assertThat(counter(first, "routing.records.read")).isEqualTo(4);
        }
        byte[] good = Files.readAllBytes(store.resolve("routing.avro"));

        // a store of another routing topic
        RouterFixture other = fixture(names.topic("other") + ".");
        other.namespace(ns, ShardKeyStrategyType.TENANT, List.of("tenantId"), layout(ns, 2));
        try (ShardRouter foreign = router(other, store)) {
            assertThat(gauge(foreign, "routing.store.chunks.loaded")).as("a copy of another topic").isZero();
            assertThat(foreign.explain(Scope.service(), ns, new Document()).chunks()).hasSize(2);
        }

        // an unreadable store
        Files.write(store.resolve("routing.avro"), java.util.Arrays.copyOf(good, good.length / 2));
        try (ShardRouter truncated = router(fixture, store)) {
            assertThat(gauge(truncated, "routing.store.chunks.loaded")).as("a truncated copy").isZero();
            assertThat(counter(truncated, "routing.records.read")).isEqualTo(4);
        }

        // a store older than half the topic's delete.retention.ms: a tombstone after it may be compacted away
        Files.write(store.resolve("routing.avro"), good);
        setDeleteRetention(fixture.catalog.routing().name(), 2_000);
        Thread.sleep(1_100);
        try (ShardRouter aged = router(fixture, store)) {
            assertThat(gauge(aged, "routing.store.chunks.loaded")).as("a copy too old to trust").isZero();
            assertThat(counter(aged, "routing.records.read")).isEqualTo(4);
        }
        setDeleteRetention(fixture.catalog.routing().name(), 86_400_000);
        Files.write(store.resolve("routing.avro"), good);
        try (ShardRouter trusted = router(fixture, store)) {
            assertThat(gauge(trusted, "routing.store.chunks.loaded")).as("the same copy, the retention long again").isEqualTo(4);
            assertThat(counter(trusted, "routing.records.read")).isZero();
        }
    }

    private static RouterFixture fixture(TestNames names) {
        return fixture(names.topicPrefix());
    }

    private static RouterFixture fixture(String topicPrefix) {
        RouterFixture fixture = new RouterFixture(cluster, topicPrefix);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        return fixture;
    }

    /** {@code count} chunks split at u10, u20, ..., alternating over s1 and s2. */
    private static List<Chunk> layout(String ns, int count) {
        List<Chunk> chunks = new ArrayList<>();
        ShardKey min = ShardKey.MIN;
        for (int i = 1; i <= count; i++) {
            ShardKey max = i == count ? null : KeyEncoding.encode("u" + (i * 10));
            chunks.add(Chunk.active(ns, new KeyRange(min, max), i % 2 == 0 ? "s2" : "s1", 1, 1));
            min = max;
        }
        return chunks;
    }

    private static ShardRouter router(RouterFixture fixture, Path store) throws InterruptedException {
        return ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog).withRoutingStore(store),
            new SimpleMeterRegistry(), Duration.ofSeconds(60));
    }

    private static void tombstone(TopicCatalog catalog, String ns, ShardKey min) throws Exception {
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()),
            new StringSerializer(), new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(catalog.routing().name(), TopicCatalog.routingKey(ns, min.toHex()), null)).get();
        }
    }

    private static void setDeleteRetention(String topic, long millis) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(
                new ConfigEntry(TopicConfig.DELETE_RETENTION_MS_CONFIG, Long.toString(millis)), AlterConfigOp.OpType.SET)))).all().get();
        }
    }

    private static double gauge(ShardRouter router, String name) {
        return router.meterRegistry().get(name).gauge().value();
    }

    private static double counter(ShardRouter router, String name) {
        return router.meterRegistry().get(name).functionCounter().count();
    }
}
