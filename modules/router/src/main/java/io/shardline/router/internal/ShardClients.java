package io.shardline.router.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.shardline.router.api.RouterException;
import io.shardline.schemas.avro.ShardDescriptor;

/** One MongoDB client per shard, made on first use from the shard's registered connection string. */
public final class ShardClients implements AutoCloseable {

    private record Entry(String connectionString, MongoClient client) {
    }

    private final RoutingState state;
    private final long timeoutMillis;
    private final RouterMetrics metrics;
    private final Map<String, Entry> clients = new ConcurrentHashMap<>();

    public ShardClients(RoutingState state, long timeoutMillis, RouterMetrics metrics) {
        this.state = state;
        this.timeoutMillis = timeoutMillis;
        this.metrics = metrics;
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
                .applyToSocketSettings(s -> s.connectTimeout((int) Math.min(timeoutMillis, Integer.MAX_VALUE), TimeUnit.MILLISECONDS))
                .applyToConnectionPoolSettings(p -> p.addConnectionPoolListener(metrics.connectionListener(id)))
                .build();
            return new Entry(shard.getConnectionString(), MongoClients.create(settings));
        });
        return entry.client();
    }

    @Override
    public void close() {
        clients.values().forEach(entry -> entry.client().close());
        clients.clear();
    }
}
