package io.shardline.router.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.shardline.router.api.RouterException;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardHealth;

/**
 * One MongoDB client per shard, made on first use from the shard's registered connection string, with the router's
 * timeouts and connection pool settings applied over it.
 */
public final class ShardClients implements AutoCloseable {

    /**
     * How the driver words a request that waited its pool's whole {@code maxWaitTime} for a connection ("Timed out after
     * N ms while waiting for a connection to server …"). It throws a {@link MongoTimeoutException} for that as for a
     * server it could not select ("… while waiting for a server that matches …"), so the words tell them apart.
     */
    private static final String POOL_WAIT_TIMED_OUT = "while waiting for a connection to server";

    /**
     * How often the driver checks each member of a shard's replica set: once a second (its default is every 10 s), so
     * that a primary lost while no request is running is noticed, and the new one found after an election, within the
     * 5 s a failover may take; a request that meets the lost primary makes the driver look again at once (every 500 ms
     * until it finds one), and waits for a primary up to the shard timeout.
     */
    static final long HEARTBEAT_MILLIS = 1_000;

    private record Entry(String connectionString, MongoClient client) {
    }

    private final RoutingState state;
    private final long timeoutMillis;
    private final int poolSize;
    private final long poolWaitMillis;
    private final long poolIdleMillis;
    private final RouterMetrics metrics;
    private final Map<String, Entry> clients = new ConcurrentHashMap<>();
    private final OperationTimes operationTimes = new OperationTimes();

    /**
     * @param timeoutMillis  how long selecting a shard's server and connecting to it may take
     * @param poolSize       the most connections to one shard
     * @param poolWaitMillis how long a request waits for a free connection to its shard
     * @param poolIdleMillis how long a connection may stay unused before it is closed; 0 for as long as the shard keeps it
     */
    public ShardClients(RoutingState state, long timeoutMillis, int poolSize, long poolWaitMillis, long poolIdleMillis, RouterMetrics metrics) {
        this.state = state;
        this.timeoutMillis = timeoutMillis;
        this.poolSize = poolSize;
        this.poolWaitMillis = poolWaitMillis;
        this.poolIdleMillis = poolIdleMillis;
        this.metrics = metrics;
        state.onShardChange(this::changed);
    }

    /**
     * A shard that went DOWN, or moved to a new address (a failover), has its client closed at once: requests waiting
     * on the old address fail now ({@link #closedUnderneath}) instead of at their timeout; the next request makes a
     * client for the new address, once the shard is UP.
     */
    private void changed(ShardDescriptor shard) {
        Entry held = clients.get(shard.getShardId());
        if (held != null && (shard.getHealth() == ShardHealth.DOWN || !held.connectionString().equals(shard.getConnectionString()))
            && clients.remove(shard.getShardId(), held)) {
            held.client().close();
        }
    }

    /** True for the driver's refusal of an operation on a client closed under it (by {@link #changed}). */
    public static boolean closedUnderneath(Throwable failure) {
        String message = failure.getMessage();
        return failure instanceof IllegalStateException && message != null && message.startsWith("state should be") && message.endsWith("open");
    }

    /** What a request fails with when its shard's client was closed under it: the shard went DOWN or moved; retry. */
    public RouterException closed(String shard, RuntimeException e) {
        ShardDescriptor now = state.shard(shard).orElse(null);
        return new RouterException(now != null && now.getHealth() == ShardHealth.DOWN ? RouterException.Kind.SHARD_DOWN : RouterException.Kind.RETRYABLE,
            "shard " + shard + (now != null && now.getHealth() == ShardHealth.DOWN ? " is DOWN" : " moved to " + (now == null ? "?" : now.getConnectionString()))
                + " while the request waited for it; nothing more was sent; retry", e);
    }

    /**
     * How long the router waits for a shard's answer on an open connection before it gives the request up and closes
     * the connection: twelve times the shard timeout, at least a minute. A shard that stops answering mid-request then
     * fails the request instead of holding it (and the client's cursor or write) forever.
     */
    static long readTimeoutMillis(long shardTimeoutMillis) {
        return Math.max(60_000, 12 * shardTimeoutMillis);
    }

    /** The cluster times of the writes each thread makes through these clients. */
    public OperationTimes operationTimes() {
        return operationTimes;
    }

    public MongoClient client(String shardId) {
        ShardDescriptor shard = state.shard(shardId).orElseThrow(() -> new RouterException(RouterException.Kind.RETRYABLE,
            "shard " + shardId + " owns chunks but is not registered (yet) on the shards topic"));
        Entry entry = clients.compute(shardId, (id, held) -> {
            if (held != null && held.connectionString().equals(shard.getConnectionString())) {
                return held;
            }
            if (held != null) {
                held.client().close();
            }
            MongoClientSettings settings = MongoClientSettings.builder()
                .applyConnectionString(new ConnectionString(shard.getConnectionString()))
                .applyToClusterSettings(c -> c.serverSelectionTimeout(timeoutMillis, TimeUnit.MILLISECONDS))
                .applyToServerSettings(s -> s.heartbeatFrequency(HEARTBEAT_MILLIS, TimeUnit.MILLISECONDS))
                .applyToSocketSettings(s -> s.connectTimeout((int) Math.min(timeoutMillis, Integer.MAX_VALUE), TimeUnit.MILLISECONDS)
                    .readTimeout((int) Math.min(readTimeoutMillis(timeoutMillis), Integer.MAX_VALUE), TimeUnit.MILLISECONDS))
                .applyToConnectionPoolSettings(p -> p.maxSize(poolSize).maxWaitTime(poolWaitMillis, TimeUnit.MILLISECONDS)
                    .maxConnectionIdleTime(poolIdleMillis, TimeUnit.MILLISECONDS)
                    // The driver prunes idle connections when its maintenance runs (every minute by default): often
                    // enough that an idle connection is closed within half its idle time more.
                    .maintenanceFrequency(poolIdleMillis > 0 ? Math.max(50, poolIdleMillis / 2) : 60_000, TimeUnit.MILLISECONDS)
                    .addConnectionPoolListener(metrics.connectionListener(id, poolSize)))
                .addCommandListener(operationTimes)
                .build();
            return new Entry(shard.getConnectionString(), MongoClients.create(settings));
        });
        return entry.client();
    }

    /**
     * What a request fails with when the driver failed it on {@code shard}: a request that found no free connection in
     * the shard's pool in time was never sent, so it may be tried again as it is (retryable, naming the shard and the
     * pool's size); any other failure is the shard's.
     */
    public RouterException failure(String shard, MongoException e) {
        if (e instanceof MongoTimeoutException && e.getMessage() != null && e.getMessage().contains(POOL_WAIT_TIMED_OUT)) {
            return new RouterException(RouterException.Kind.RETRYABLE, "shard " + shard + ": no connection came free within "
                + poolWaitMillis + " ms in the router's pool to it (pool size " + poolSize + "); nothing was sent to the shard; retry", e);
        }
        return new RouterException(RouterException.Kind.SHARD_ERROR, "shard " + shard + " failed: " + e.getMessage(), e);
    }

    @Override
    public void close() {
        clients.values().forEach(entry -> entry.client().close());
        clients.clear();
    }
}
