package io.shardline.shard;

import java.time.Duration;
import java.util.Objects;

/**
 * Settings of an {@link EmbeddedShard}. The shard always binds the loopback address.
 *
 * @param port                  port to bind; 0 picks a free one
 * @param replicaSetName        name the shard answers {@code hello} with ({@code setName})
 * @param oplogRetentionEntries how many change events the oplog keeps; resuming from an older position fails
 *                              with {@code ChangeStreamHistoryLost}, as on a real replica set whose oplog rolled over
 * @param defaultAwaitTime      how long a change-stream {@code getMore} waits for events when the client gives
 *                              no {@code maxTimeMS} (MongoDB waits one second)
 */
public record EmbeddedShardConfig(int port, String replicaSetName, int oplogRetentionEntries, Duration defaultAwaitTime) {

    public static final int DEFAULT_OPLOG_RETENTION = 500_000;

    public EmbeddedShardConfig {
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
    }

    /** A free port, replica set {@code rs-<shardId>}, default retention, one-second await. */
    public static EmbeddedShardConfig defaults(String shardId) {
        return new EmbeddedShardConfig(0, "rs-" + shardId, DEFAULT_OPLOG_RETENTION, Duration.ofSeconds(1));
    }

    public EmbeddedShardConfig withPort(int newPort) {
        return new EmbeddedShardConfig(newPort, replicaSetName, oplogRetentionEntries, defaultAwaitTime);
    }

    public EmbeddedShardConfig withReplicaSetName(String name) {
        return new EmbeddedShardConfig(port, name, oplogRetentionEntries, defaultAwaitTime);
    }

    public EmbeddedShardConfig withOplogRetentionEntries(int entries) {
        return new EmbeddedShardConfig(port, replicaSetName, entries, defaultAwaitTime);
    }

    public EmbeddedShardConfig withDefaultAwaitTime(Duration awaitTime) {
        return new EmbeddedShardConfig(port, replicaSetName, oplogRetentionEntries, awaitTime);
    }
}
