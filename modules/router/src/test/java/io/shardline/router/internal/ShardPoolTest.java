package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.ServerAddress;
import com.mongodb.connection.ClusterId;
import com.mongodb.connection.ConnectionId;
import com.mongodb.connection.ServerId;
import com.mongodb.event.ConnectionCheckOutFailedEvent;
import com.mongodb.event.ConnectionCheckOutStartedEvent;
import com.mongodb.event.ConnectionCheckedInEvent;
import com.mongodb.event.ConnectionCheckedOutEvent;
import com.mongodb.event.ConnectionCreatedEvent;
import com.mongodb.event.ConnectionPoolListener;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.router.api.RouterException;

/** The router's pool to a shard: its gauges follow the driver's pool events, and a wait that ran out is retryable. */
class ShardPoolTest {

    private static final ServerId SERVER = new ServerId(new ClusterId(), new ServerAddress("127.0.0.1", 27017));

    private static double gauge(MeterRegistry registry, String name, String shard) {
        return registry.get(name).tag("shard", shard).gauge().value();
    }

    @Test
    void shouldCountConnectionsInUseRequestsWaitingAndTheMaximumPerShard() {
        MeterRegistry registry = new SimpleMeterRegistry();
        RouterMetrics metrics = new RouterMetrics(registry);
        ConnectionPoolListener s1 = metrics.connectionListener("s1", 2);
        metrics.connectionListener("s2", 2);
        ConnectionId first = new ConnectionId(SERVER, 1, null);
        ConnectionId second = new ConnectionId(SERVER, 2, null);

        s1.connectionCheckOutStarted(new ConnectionCheckOutStartedEvent(SERVER, 1));
        s1.connectionCreated(new ConnectionCreatedEvent(first));
        s1.connectionCheckedOut(new ConnectionCheckedOutEvent(first, 1, 0));
        s1.connectionCheckOutStarted(new ConnectionCheckOutStartedEvent(SERVER, 2));
        s1.connectionCreated(new ConnectionCreatedEvent(second));
        s1.connectionCheckedOut(new ConnectionCheckedOutEvent(second, 2, 0));
        s1.connectionCheckOutStarted(new ConnectionCheckOutStartedEvent(SERVER, 3));

        assertThat(gauge(registry, "shard.connection.in.use", "s1")).isEqualTo(2);
        assertThat(gauge(registry, "shard.connection.wait.queue", "s1")).isEqualTo(1);
        assertThat(gauge(registry, "shard.connection.count", "s1")).isEqualTo(2);
        assertThat(gauge(registry, "shard.connection.max", "s1")).isEqualTo(2);
        assertThat(gauge(registry, "shard.connection.in.use", "s2")).isZero();

        s1.connectionCheckOutFailed(new ConnectionCheckOutFailedEvent(SERVER, 3, ConnectionCheckOutFailedEvent.Reason.TIMEOUT, 0));
        s1.connectionCheckedIn(new ConnectionCheckedInEvent(first, 1));
        s1.connectionCheckedIn(new ConnectionCheckedInEvent(second, 2));

        assertThat(gauge(registry, "shard.connection.in.use", "s1")).isZero();
        assertThat(gauge(registry, "shard.connection.wait.queue", "s1")).isZero();
        assertThat(gauge(registry, "shard.connection.count", "s1")).isEqualTo(2);
    }

    @Test
    void shouldKeepOneSetOfGaugesPerShardWhenItsClientIsMadeAgain() {
        MeterRegistry registry = new SimpleMeterRegistry();
        RouterMetrics metrics = new RouterMetrics(registry);
        ConnectionPoolListener before = metrics.connectionListener("s1", 5);
        ConnectionPoolListener after = metrics.connectionListener("s1", 5);
        ConnectionId connection = new ConnectionId(SERVER, 1, null);

        before.connectionCheckOutStarted(new ConnectionCheckOutStartedEvent(SERVER, 1));
        before.connectionCheckedOut(new ConnectionCheckedOutEvent(connection, 1, 0));
        after.connectionCheckOutStarted(new ConnectionCheckOutStartedEvent(SERVER, 2));

        assertThat(registry.find("shard.connection.in.use").gauges()).hasSize(1);
        assertThat(gauge(registry, "shard.connection.in.use", "s1")).isEqualTo(1);
        assertThat(gauge(registry, "shard.connection.wait.queue", "s1")).isEqualTo(1);
    }

    @Test
    void shouldFailARequestThatGotNoConnectionInTimeAsRetryableNamingTheShardAndThePoolSize() {
        ShardClients clients = new ShardClients(new RoutingState(), 5_000, 3, 250, 0, new RouterMetrics(new SimpleMeterRegistry()));
        // The driver's words when a check-out waited the pool's whole maxWaitTime.
        MongoTimeoutException poolWait = new MongoTimeoutException("Timed out after 250 ms while waiting for a connection to server 127.0.0.1:27017.");

        RouterException failure = clients.failure("s1", poolWait);

        assertThat(failure.kind()).isEqualTo(RouterException.Kind.RETRYABLE);
        assertThat(failure.getMessage()).contains("shard s1", "pool size 3", "250 ms");
        assertThat(failure.getCause()).isSameAs(poolWait);
    }

    @Test
    void shouldLeaveAShardOutOfReachAndAShardsOwnErrorShardErrors() {
        ShardClients clients = new ShardClients(new RoutingState(), 5_000, 3, 250, 0, new RouterMetrics(new SimpleMeterRegistry()));
        MongoTimeoutException unreachable = new MongoTimeoutException("Timed out after 5000 ms while waiting for a server that matches "
            + "ReadPreferenceServerSelector{readPreference=primary}.");
        MongoCommandException refused = new MongoCommandException(new org.bson.BsonDocument("ok", new org.bson.BsonInt32(0))
            .append("code", new org.bson.BsonInt32(2)).append("errmsg", new org.bson.BsonString("bad")), new ServerAddress());

        assertThat(clients.failure("s1", unreachable).kind()).isEqualTo(RouterException.Kind.SHARD_ERROR);
        assertThat(clients.failure("s1", unreachable).getMessage()).startsWith("shard s1 failed: ");
        assertThat(clients.failure("s2", refused).kind()).isEqualTo(RouterException.Kind.SHARD_ERROR);
    }

    @Test
    void shouldGiveUpOnAShardThatStopsAnsweringAfterTwelveShardTimeoutsAndAtLeastAMinute() {
        assertThat(ShardClients.readTimeoutMillis(5_000)).isEqualTo(60_000);
        assertThat(ShardClients.readTimeoutMillis(400)).as("never under a minute").isEqualTo(60_000);
        assertThat(ShardClients.readTimeoutMillis(10_000)).isEqualTo(120_000);
    }

    @Test
    void shouldCheckAShardsMembersEverySecondAndWaitForAPrimaryUpToTheShardTimeout() {
        RoutingState state = new RoutingState();
        state.applyShard(io.shardline.schemas.avro.ShardDescriptor.newBuilder().setShardId("s1")
            .setConnectionString("mongodb://127.0.0.1:1,127.0.0.1:2/?replicaSet=rs-s1").setCapacityBytes(1).setCapacityOpsPerSec(1)
            .setState(io.shardline.schemas.avro.ShardState.ACTIVE).setVersion(1).setUpdatedAt(java.time.Instant.EPOCH).build());
        try (ShardClients clients = new ShardClients(state, 4_000, 3, 250, 0, new RouterMetrics(new SimpleMeterRegistry()))) {
            com.mongodb.connection.ClusterDescription cluster = clients.client("s1").getClusterDescription();

            assertThat(cluster.getServerSettings().getHeartbeatFrequency(java.util.concurrent.TimeUnit.MILLISECONDS))
                .as("the driver's default is 10 s, past a 5 s failover").isEqualTo(1_000);
            assertThat(cluster.getClusterSettings().getServerSelectionTimeout(java.util.concurrent.TimeUnit.MILLISECONDS)).isEqualTo(4_000);
        }
    }
}
