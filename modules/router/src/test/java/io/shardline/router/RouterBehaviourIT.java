package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.shardline.core.key.KeyRange;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.Explain;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.FindResult;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.WriteResult;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/** Tenant isolation, forbidden operators, writes, fences, routing changes and unavailable shards, on real shards. */
@ShardlineCluster
class RouterBehaviourIT {

    private static RouterFixture fixture;
    private static ShardRouter router;
    private static EmbeddedShard spare;
    private static String users;
    private static String sessions;
    private static String tokens;

    @BeforeAll
    static void start(EmbeddedCluster cluster, TestNames names) throws Exception {
        fixture = new RouterFixture(cluster, names);
        spare = EmbeddedShard.start("spare-" + names.database());
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        fixture.register("spare", spare);
        users = names.database() + ".users";
        sessions = names.database() + ".sessions";
        fixture.namespace(users, ShardKeyStrategyType.TENANT, List.of("tenantId"),
            InitialChunks.layout(users, 1, InitialChunks.valueBoundaries(List.of("m")), List.of("s1", "s2")));
        fixture.namespace(sessions, ShardKeyStrategyType.HASHED, List.of("userId"),
            InitialChunks.layout(sessions, 1, InitialChunks.hashedBoundaries(4), List.of("s1", "s2", "spare")));
        tokens = names.database() + ".tokens";
        fixture.namespace(tokens, ShardKeyStrategyType.HASHED, List.of("_id"),
            InitialChunks.layout(tokens, 1, InitialChunks.hashedBoundaries(2), List.of("s1", "s2")));
        router = fixture.router();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        router.close();
        fixture.publisher.close();
        spare.close();
    }

    @Test
    void shouldGiveADocumentWithoutAnIdAnObjectIdAsTheDriverWouldAndRouteItByIt() {
        router.insert("acme", tokens, List.of(new Document("label", "no id given")));

        List<Document> found = router.find("acme", tokens, FindRequest.of(new Document("label", "no id given"))).documents();

        assertThat(found).hasSize(1);
        assertThat(found.get(0).get("_id")).isInstanceOf(org.bson.types.ObjectId.class);
        assertThat(router.find("acme", tokens, FindRequest.of(new Document("_id", found.get(0).get("_id")))).shards())
            .as("found again by its id on one shard").hasSize(1);
    }

    @Test
    void shouldNotReadDocumentsAShardHoldsOfRangesItDoesNotOwn() throws Exception {
        String ns = users.replace(".users", ".copied");
        fixture.namespace(ns, ShardKeyStrategyType.HASHED, List.of("userId"),
            InitialChunks.layout(ns, 1, InitialChunks.hashedBoundaries(2), List.of("s1", "s2")));
        awaitShards(ns, "s1", "s2");
        List<Document> documents = new java.util.ArrayList<>();
        for (int i = 0; i < 40; i++) {
            documents.add(new Document("_id", "c" + i).append("userId", "u" + i));
        }
        router.insert("acme", ns, documents);
        // A copy in flight: everything s1 owns is on s2 too, as a migration to s2 leaves it until the cutover.
        int dot = ns.indexOf('.');
        try (var s1 = com.mongodb.client.MongoClients.create(fixture.cluster.shards().get("s1").connectionString());
             var s2 = com.mongodb.client.MongoClients.create(fixture.cluster.shards().get("s2").connectionString())) {
            List<Document> owned = s1.getDatabase(ns.substring(0, dot)).getCollection(ns.substring(dot + 1)).find().into(new java.util.ArrayList<>());
            assertThat(owned).isNotEmpty();
            s2.getDatabase(ns.substring(0, dot)).getCollection(ns.substring(dot + 1)).insertMany(owned);
            String onS1 = owned.get(0).getString("userId");

            assertThat(router.find("acme", ns, FindRequest.of(new Document())).documents()).as("every shard, each to its own ranges").hasSize(40);
            assertThat(router.count("acme", ns, new Document(), false)).isEqualTo(40);
            FindResult byKey = router.find("acme", ns, FindRequest.of(new Document("userId", onS1)));
            assertThat(byKey.shards()).containsExactly("s1");
            assertThat(byKey.documents()).hasSize(1);
        }
    }

    @Test
    void shouldNeverShowOneTenantTheDocumentsOfAnother() {
        router.insert("acme", users, List.of(new Document("_id", "a1").append("name", "Ann")));
        router.insert("zeta", users, List.of(new Document("_id", "z1").append("name", "Zed")));

        assertThat(router.find("acme", users, FindRequest.of(new Document())).documents())
            .extracting(d -> d.getString("_id")).containsExactly("a1");
        assertThat(router.count("zeta", users, new Document("name", "Ann"), false)).isZero();
        assertThatThrownBy(() -> router.find("acme", users, FindRequest.of(new Document("tenantId", "zeta"))))
            .isInstanceOf(RouterException.class)
            .hasMessageContaining("zeta")
            .extracting(e -> ((RouterException) e).kind()).isEqualTo(RouterException.Kind.FORBIDDEN);
        assertThatThrownBy(() -> router.find("acme", users, FindRequest.of(
            new Document("$or", List.of(new Document("name", "x"), new Document("tenantId", new Document("$in", List.of("acme", "zeta"))))))))
            .extracting(e -> ((RouterException) e).kind()).isEqualTo(RouterException.Kind.FORBIDDEN);
        assertThatThrownBy(() -> router.insert("acme", users, List.of(new Document("_id", "x").append("tenantId", "zeta"))))
            .extracting(e -> ((RouterException) e).kind()).isEqualTo(RouterException.Kind.FORBIDDEN);
    }

    @Test
    void shouldRejectServerSideJavaScriptAnywhereInARequest() {
        for (Document filter : List.of(new Document("$where", "this.a == 1"),
            new Document("$expr", new Document("$function", new Document("body", "function() {return true}").append("args", List.of()).append("lang", "js"))))) {
            assertThatThrownBy(() -> router.find("acme", users, FindRequest.of(filter)))
                .isInstanceOf(RouterException.class)
                .hasMessageContaining("JavaScript")
                .extracting(e -> ((RouterException) e).kind()).isEqualTo(RouterException.Kind.FORBIDDEN);
        }
    }

    @Test
    void shouldTargetOneShardForAShardKeyEqualityAndEveryShardOtherwise() {
        Explain single = router.explain("acme", users, new Document());
        Explain hashedPoint = router.explain("acme", sessions, new Document("userId", "u-1"));
        Explain hashedScan = router.explain("acme", sessions, new Document("userId", new Document("$gt", "u")));

        assertThat(single.shards()).hasSize(1);
        assertThat(single.allShards()).isFalse();
        assertThat(hashedPoint.shards()).hasSize(1);
        assertThat(hashedScan.shards()).containsExactlyInAnyOrder("s1", "s2", "spare");
        assertThat(hashedScan.reason()).isNotBlank();
    }

    @Test
    void shouldUpdateUpsertAndDeleteThroughTheOwningShards() {
        router.insert("acme", sessions, List.of(new Document("_id", "s-1").append("userId", "u-1").append("hits", 0),
            new Document("_id", "s-2").append("userId", "u-2").append("hits", 0)));

        WriteResult many = router.update("acme", sessions, new Document(), new Document("$inc", new Document("hits", 1)), true, false);
        WriteResult upsert = router.update("acme", sessions, new Document("userId", "u-3").append("_id", "s-3"),
            new Document("$set", new Document("hits", 7)), false, true);
        WriteResult one = router.delete("acme", sessions, new Document("userId", "u-1"), false);

        assertThat(many.matched()).isEqualTo(2);
        assertThat(upsert.upsertedIds()).hasSize(1);
        assertThat(one.deleted()).isEqualTo(1);
        assertThat(router.find("acme", sessions, new FindRequest(new Document(), new Document("_id", 1), 0, 0, null, false)).documents())
            .extracting(d -> d.getString("_id") + ":" + d.get("hits") + ":" + d.getString("tenantId"))
            .containsExactly("s-2:1:acme", "s-3:7:acme");
        assertThatThrownBy(() -> router.update("acme", sessions, new Document("userId", "u-2"), new Document("$set", new Document("userId", "u-9")), false, false))
            .hasMessageContaining("cannot be modified");
        assertThatThrownBy(() -> router.insert("acme", sessions, List.of(new Document("_id", "no-key"))))
            .hasMessageContaining("userId")
            .extracting(e -> ((RouterException) e).kind()).isEqualTo(RouterException.Kind.BAD_REQUEST);
    }

    @Test
    void shouldApplyAPublishedRoutingChangeWithoutRestartAndFollowItOnTheNextQuery() throws Exception {
        String ns = users.replace(".users", ".moving");
        fixture.namespace(ns, ShardKeyStrategyType.TENANT, List.of("tenantId"), List.of(Chunk.active(ns, KeyRange.ALL, "s1", 1, 1)));
        awaitShards(ns, "s1");
        assertThat(router.explain("acme", ns, new Document()).shards()).containsExactly("s1");

        long before = router.routingVersion();
        long published = System.nanoTime();
        fixture.publisher.publishChunk(Chunk.active(ns, KeyRange.ALL, "s2", 1, before + 1));
        router.awaitRoutingVersionAbove(before, Duration.ofSeconds(10));
        long propagationMicros = (System.nanoTime() - published) / 1_000;

        System.out.println("routing change propagation: " + propagationMicros + " us (publish acked -> applied by the router)");
        assertThat(router.explain("acme", ns, new Document()).shards()).containsExactly("s2");
    }

    @Test
    void shouldHoldAWriteToAFencedChunkUntilTheNextVersionAndFailItAsRetryableAfterTheBudget() throws Exception {
        String ns = users.replace(".users", ".fenced");
        Chunk whole = Chunk.active(ns, KeyRange.ALL, "s1", 1, 100);
        fixture.namespace(ns, ShardKeyStrategyType.TENANT, List.of("tenantId"), List.of(whole));
        awaitShards(ns, "s1");
        long before = router.routingVersion();
        fixture.publisher.publishChunk(whole.withOwner("s1", 101, ChunkState.FENCED, "m-1"));
        awaitVersionAbove(before);

        assertThatThrownBy(() -> router.insert("acme", ns, List.of(new Document("_id", "held"))))
            .extracting(e -> ((RouterException) e).kind()).isEqualTo(RouterException.Kind.RETRYABLE);

        Thread cutover = new Thread(() -> {
            sleep(150);
            fixture.publisher.publishChunk(whole.withOwner("s2", 102, ChunkState.ACTIVE, null));
        });
        cutover.start();
        WriteResult result = router.insert("acme", ns, List.of(new Document("_id", "released")));
        cutover.join();

        assertThat(result.shards()).containsExactly("s2");
    }

    @Test
    void shouldNameTheMissingShardOrFailWhenAShardDoesNotAnswer() throws Exception {
        String ns = sessions.replace(".sessions", ".flaky");
        EmbeddedShard doomed = EmbeddedShard.start("doomed");
        fixture.register("doomed", doomed);
        fixture.namespace(ns, ShardKeyStrategyType.HASHED, List.of("userId"),
            InitialChunks.layout(ns, 1, InitialChunks.hashedBoundaries(2), List.of("s1", "doomed")));
        awaitShards(ns, "s1", "doomed");
        doomed.close();
        try (ShardRouter impatient = ShardRouter.start(RouterConfig.defaults(fixture.cluster.bootstrapServers(), fixture.catalog)
            .withShardTimeout(Duration.ofMillis(1500)), new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), Duration.ofSeconds(30))) {

            FindResult partial = impatient.find("acme", ns, new FindRequest(new Document(), null, 0, 0, null, true));

            assertThat(partial.partial()).isTrue();
            assertThat(partial.missingShards()).containsExactly("doomed");
            assertThatThrownBy(() -> impatient.find("acme", ns, FindRequest.of(new Document())))
                .isInstanceOf(RouterException.class)
                .hasMessageContaining("doomed");
        }
    }

    @Test
    void shouldSendUnreadableControlRecordsToTheDeadLetterTopicAndKeepApplyingTheRest() throws Exception {
        String ns = users.replace(".users", ".afterbad");
        try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> raw = new org.apache.kafka.clients.producer.KafkaProducer<>(
            java.util.Map.of("bootstrap.servers", fixture.cluster.bootstrapServers()),
            new org.apache.kafka.common.serialization.ByteArraySerializer(), new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            raw.send(new org.apache.kafka.clients.producer.ProducerRecord<>(fixture.catalog.routing().name(),
                (ns + "|00").getBytes(), "not an avro record".getBytes())).get();
        }
        fixture.publisher.publishConfig(io.shardline.schemas.avro.NamespaceConfig.newBuilder().setNamespace(ns + "x")
            .setStrategy(ShardKeyStrategyType.HASHED).setShardKeyFields(List.of("a", "b"))
            .setThresholds(io.shardline.schemas.avro.Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
        fixture.namespace(ns, ShardKeyStrategyType.TENANT, List.of("tenantId"), List.of(Chunk.active(ns, KeyRange.ALL, "s2", 1, 1)));

        awaitShards(ns, "s2");
        List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> letters = new java.util.ArrayList<>();
        try (org.apache.kafka.clients.consumer.KafkaConsumer<byte[], byte[]> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
            java.util.Map.of("bootstrap.servers", fixture.cluster.bootstrapServers(), "group.id", "dlq-" + java.util.UUID.randomUUID(),
                "auto.offset.reset", "earliest"),
            new org.apache.kafka.common.serialization.ByteArrayDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            consumer.subscribe(List.of(fixture.catalog.controlDlq().name()));
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (letters.size() < 2 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(letters::add);
            }
        }
        assertThat(letters).extracting(r -> header(r, io.shardline.schemas.DeadLetterHeaders.SOURCE_TOPIC))
            .contains(fixture.catalog.routing().name(), fixture.catalog.config().name());
        assertThat(letters).extracting(r -> header(r, io.shardline.schemas.DeadLetterHeaders.EXCEPTION_MESSAGE))
            .anyMatch(message -> message.contains("shardKeyFields"));
        assertThat(letters).extracting(r -> new String(r.value())).contains("not an avro record");
    }

    private static String header(org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> record, String name) {
        org.apache.kafka.common.header.Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value());
    }

    private static void awaitShards(String ns, String... shards) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                if (router.explain("acme", ns, new Document()).shards().containsAll(List.of(shards))) {
                    return;
                }
            } catch (RouterException notYetRouted) {
                Thread.sleep(10);
            }
        }
        throw new AssertionError(ns + " not routed to " + List.of(shards));
    }

    /** Routing versions are positions in the routing topic: anything published after {@code seen} moves past it. */
    private static void awaitVersionAbove(long seen) throws InterruptedException {
        assertThat(router.awaitRoutingVersionAbove(seen, Duration.ofSeconds(10))).isGreaterThan(seen);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
