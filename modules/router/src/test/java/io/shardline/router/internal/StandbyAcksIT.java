package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;

import org.bson.BsonTimestamp;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.standby.StandbyProgressLayout;
import io.shardline.router.api.RouterException;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardHealth;
import io.shardline.schemas.avro.ShardState;
import io.shardline.shard.EmbeddedShard;

/**
 * How a write with durability STANDBY waits for the shard's standby, against a real standby's progress records: it is
 * confirmed once the namespace's record reaches the write's cluster time, fails as unconfirmed after the timeout, and,
 * once the standby it waits on was promoted, is confirmed or reported lost at once from the records it froze with.
 */
class StandbyAcksIT {

    private static final String NS = "app.users";
    private static EmbeddedShard standby;
    private static MongoClient client;

    @BeforeAll
    static void start() {
        standby = EmbeddedShard.start("acks-standby");
        client = MongoClients.create(standby.connectionString());
    }

    @AfterAll
    static void stop() {
        client.close();
        standby.close();
    }

    private static ShardDescriptor shard(String uri, String standbyUri, long version) {
        return ShardDescriptor.newBuilder().setShardId("s1").setConnectionString(uri).setStandbyConnectionString(standbyUri)
            .setCapacityBytes(1).setCapacityOpsPerSec(1).setState(ShardState.ACTIVE).setVersion(version).setUpdatedAt(Instant.EPOCH)
            .setHealth(ShardHealth.UP).build();
    }

    private static void applied(String namespace, BsonTimestamp time) {
        MongoCollection<Document> progress = client.getDatabase(StandbyProgressLayout.DATABASE).getCollection(StandbyProgressLayout.COLLECTION);
        progress.replaceOne(Filters.eq("_id", namespace), new Document("_id", namespace).append(StandbyProgressLayout.CLUSTER_TIME, time.getValue()),
            new ReplaceOptions().upsert(true));
    }

    @Test
    void shouldConfirmAWriteOnceTheStandbyHasItsNamespaceUpToItsTimeAndNotBefore() throws Exception {
        RoutingState state = new RoutingState();
        state.applyShard(shard("mongodb://primary", standby.connectionString(), 1));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (StandbyAcks acks = new StandbyAcks(state, Duration.ofSeconds(10), new RouterMetrics(registry))) {
            applied(NS, new BsonTimestamp(100, 1));
            applied("app.other", new BsonTimestamp(100, 9));
            StandbyAcks.Sent sent = acks.sending("s1");

            acks.await(sent, null, NS, new BsonTimestamp(100, 1).getValue());
            Thread waiting = new Thread(() -> acks.await(sent, null, NS, new BsonTimestamp(100, 5).getValue()));
            waiting.start();
            waiting.join(300);
            assertThat(waiting.isAlive()).as("waiting: another namespace's later record confirms nothing").isTrue();
            applied(NS, new BsonTimestamp(100, 5));
            waiting.join(5_000);

            assertThat(waiting.isAlive()).isFalse();
            assertThat(registry.find("router.standby.wait").tag("outcome", "confirmed").timer().count()).isEqualTo(2);
        }
    }

    @Test
    void shouldNotWaitOnAShardWithoutAStandbyOrForAWriteThatChangedNothing() {
        RoutingState state = new RoutingState();
        state.applyShard(shard("mongodb://primary", null, 1));
        try (StandbyAcks acks = new StandbyAcks(state, Duration.ofMillis(1), new RouterMetrics(new SimpleMeterRegistry()))) {
            acks.await(acks.sending("s1"), null, NS, new BsonTimestamp(999_999, 1).getValue());
            state.applyShard(shard("mongodb://primary", standby.connectionString(), 2));
            acks.await(acks.sending("s1"), null, NS, 0);
        }
    }

    @Test
    void shouldFailAWriteTheStandbyDoesNotConfirmInTimeAsUnconfirmed() {
        RoutingState state = new RoutingState();
        state.applyShard(shard("mongodb://primary", standby.connectionString(), 1));
        try (StandbyAcks acks = new StandbyAcks(state, Duration.ofMillis(300), new RouterMetrics(new SimpleMeterRegistry()))) {
            applied(NS, new BsonTimestamp(200, 1));
            long started = System.nanoTime();

            assertThatThrownBy(() -> acks.await(acks.sending("s1"), null, NS, new BsonTimestamp(200, 2).getValue()))
                .isInstanceOfSatisfying(RouterException.class, e -> assertThat(e.kind()).isEqualTo(RouterException.Kind.STANDBY_UNCONFIRMED))
                .hasMessageContaining("did not confirm it within 300 ms");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        }
    }

    @Test
    void shouldAnswerAtOnceFromThePromotedStandbysRecordsWhetherItHoldsAWrite() {
        RoutingState state = new RoutingState();
        state.applyShard(shard("mongodb://primary", standby.connectionString(), 1));
        try (StandbyAcks acks = new StandbyAcks(state, Duration.ofSeconds(30), new RouterMetrics(new SimpleMeterRegistry()))) {
            applied(NS, new BsonTimestamp(300, 4));
            StandbyAcks.Sent held = acks.sending("s1");
            StandbyAcks.Sent lost = acks.sending("s1");
            state.applyShard(shard(standby.connectionString(), null, 2));
            long started = System.nanoTime();

            acks.await(held, null, NS, new BsonTimestamp(300, 4).getValue());
            assertThatThrownBy(() -> acks.await(lost, null, NS, new BsonTimestamp(300, 5).getValue()))
                .isInstanceOfSatisfying(RouterException.class, e -> assertThat(e.kind()).isEqualTo(RouterException.Kind.STANDBY_UNCONFIRMED))
                .hasMessageContaining("had not applied this write when it was promoted");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("long before the 30 s timeout").isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void shouldFailAtOnceAWriteTheStandbyRefusedAndOneWhoseStandbyIsNoLongerNamed() {
        RoutingState state = new RoutingState();
        state.applyShard(shard("mongodb://primary", standby.connectionString(), 1));
        try (StandbyAcks acks = new StandbyAcks(state, Duration.ofSeconds(30), new RouterMetrics(new SimpleMeterRegistry()))) {
            MongoCollection<Document> progress = client.getDatabase(StandbyProgressLayout.DATABASE).getCollection(StandbyProgressLayout.COLLECTION);
            progress.replaceOne(Filters.eq("_id", NS), new Document("_id", NS).append(StandbyProgressLayout.CLUSTER_TIME, new BsonTimestamp(400, 9).getValue())
                .append(StandbyProgressLayout.REFUSED_CLUSTER_TIMES, java.util.List.of(new BsonTimestamp(400, 3).getValue())), new ReplaceOptions().upsert(true));
            StandbyAcks.Sent sent = acks.sending("s1");
            long started = System.nanoTime();

            acks.await(sent, null, NS, new BsonTimestamp(400, 2).getValue());
            assertThatThrownBy(() -> acks.await(sent, null, NS, new BsonTimestamp(400, 3).getValue()))
                .isInstanceOfSatisfying(RouterException.class, e -> assertThat(e.kind()).isEqualTo(RouterException.Kind.STANDBY_UNCONFIRMED))
                .hasMessageContaining("refused it");
            state.applyShard(shard("mongodb://primary", "mongodb://another-standby:1", 2));
            assertThatThrownBy(() -> acks.await(sent, null, NS, new BsonTimestamp(400, 4).getValue()))
                .hasMessageContaining("no longer any shard's standby");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("long before the 30 s timeout").isLessThan(Duration.ofSeconds(5));
        }
    }

    @Test
    void shouldNotWaitOnTheOldStandbyForAWriteThePromotedStandbyAnswered() {
        RoutingState state = new RoutingState();
        state.applyShard(shard("mongodb://primary", standby.connectionString(), 1));
        try (StandbyAcks acks = new StandbyAcks(state, Duration.ofSeconds(30), new RouterMetrics(new SimpleMeterRegistry()))) {
            StandbyAcks.Sent sent = acks.sending("s1");
            state.applyShard(shard(standby.connectionString(), null, 2));
            long started = System.nanoTime();

            // Sent with the old descriptor, but the client had already moved to the promoted standby, which answered.
            acks.await(sent, new com.mongodb.ServerAddress("127.0.0.1", standby.port()), NS, new BsonTimestamp(999_999, 1).getValue());

            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("on the promoted shard, which has no standby yet").isLessThan(Duration.ofSeconds(5));
        }
    }
}
