package io.shardline.shard;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of an {@link EmbeddedShard}.
 *
 * @param host                  the address to bind and announce (the loopback address by default; another one, e.g. of
 *                              a network namespace the shard runs in, for tests that cut the network to it)
 * @param port                  port to bind; 0 picks a free one
 * @param replicaSetName        name the shard answers {@code hello} with ({@code setName})
 * @param oplogRetentionEntries how many change events the oplog keeps; resuming from an older position fails
 *                              with {@code ChangeStreamHistoryLost}, as on a real replica set whose oplog rolled over
 * @param defaultAwaitTime      how long a change-stream {@code getMore} waits for events when the client gives
 *                              no {@code maxTimeMS} (MongoDB waits one second)
 * @param serviceTime           a fixed time every data command (reads, writes, aggregations, cursors' next batches;
 *                              not handshakes or change streams) takes on top of its own work, to model a shard bound
 *                              by its latency rather than by this machine's cores (zero, the default, adds nothing)
 */
public record EmbeddedShardConfig(String host, int port, String replicaSetName, int oplogRetentionEntries, Duration defaultAwaitTime, Duration serviceTime) {

    public static final int DEFAULT_OPLOG_RETENTION = 500_000;

    public EmbeddedShardConfig {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("host must not be blank");
        }
        Objects.requireNonNull(replicaSetName, "replicaSetName");
        Objects.requireNonNull(defaultAwaitTime, "defaultAwaitTime");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port must be in [0, 65535], was " + port);
        }
        if (replicaSetName.isBlank()) {
            throw new IllegalArgumentException("replicaSetName must not be blank");
        }
        if (oplogRetentionEntries < 1) {
            throw new IllegalArgumentException("oplogRetentionEntries must be >= 1, was " + oplogRetentionEntries);
        }
        if (defaultAwaitTime.isNegative()) {
            throw new IllegalArgumentException("defaultAwaitTime must not be negative");
        }
        Objects.requireNonNull(serviceTime, "serviceTime");
        if (serviceTime.isNegative()) {
            throw new IllegalArgumentException("serviceTime must not be negative, was " + serviceTime);
        }
    }

    /** The loopback address, a free port, replica set {@code rs-<shardId>}, default retention, one-second await. */
    public static EmbeddedShardConfig defaults(String shardId) {
        return new EmbeddedShardConfig("127.0.0.1", 0, "rs-" + shardId, DEFAULT_OPLOG_RETENTION, Duration.ofSeconds(1), Duration.ZERO);
    }

    public EmbeddedShardConfig withHost(String address) {
        return new EmbeddedShardConfig(address, port, replicaSetName, oplogRetentionEntries, defaultAwaitTime, serviceTime);
    }

    public EmbeddedShardConfig withPort(int newPort) {
        return new EmbeddedShardConfig(host, newPort, replicaSetName, oplogRetentionEntries, defaultAwaitTime, serviceTime);
    }

    public EmbeddedShardConfig withReplicaSetName(String name) {
        return new EmbeddedShardConfig(host, port, name, oplogRetentionEntries, defaultAwaitTime, serviceTime);
    }

    public EmbeddedShardConfig withOplogRetentionEntries(int entries) {
        return new EmbeddedShardConfig(host, port, replicaSetName, entries, defaultAwaitTime, serviceTime);
    }

    public EmbeddedShardConfig withDefaultAwaitTime(Duration awaitTime) {
        return new EmbeddedShardConfig(host, port, replicaSetName, oplogRetentionEntries, awaitTime, serviceTime);
    }

    public EmbeddedShardConfig withServiceTime(Duration time) {
        return new EmbeddedShardConfig(host, port, replicaSetName, oplogRetentionEntries, defaultAwaitTime, time);
    }
}
