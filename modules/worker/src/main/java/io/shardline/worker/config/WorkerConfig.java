package io.shardline.worker.config;

import java.time.Duration;
import java.util.Objects;
import java.util.UUID;

import io.shardline.schemas.TopicCatalog;

/**
 * Settings of the worker role.
 *
 * @param workerId              this worker's id, on migrations and events
 * @param groupId               consumer group of the workers; one of them carries out commands at a time
 * @param fenceBudget           fence only when the predicted catch-up is shorter than this
 * @param ackTimeout            how long a fence waits for the acks of routers with a live lease before it unfences
 * @param maxFenceHold          hard bound on how long writes to the range are held (acks, drain and verification)
 * @param fenceRetryBackoff     wait after a failed fence before the next; doubles with each failure, up to 32 times
 * @param copyBatchSize         documents per copy batch
 * @param copyStreams           copy batches written to the target at once (one scan of the range in key order feeds them)
 * @param copyLatencyTarget     while the target's copy batches take longer than this on average, the copy slows down
 * @param gracePeriod           after the cutover, changes on the target are replayed to the source this long, so a
 *                              rollback can flip back; then the range is deleted from the source
 * @param deleteBatchSize       documents per batch of the range deleter
 * @param progressInterval      how often progress is published while copying and replaying
 * @param verifyFullScanMaxDocs ranges up to this many documents are verified by a full scan while fenced; larger ones
 *                              by a full scan before the fence and a recheck of the keys changed since
 * @param ownerLease            how long a worker may go on changing shards after it last proved it still owns the
 *                              commands (a transaction committed with its group generation, renewed every fifth of
 *                              this); a worker taking the commands over from one that did not hand them over waits this
 *                              long before it touches a shard. Shorter than the group's session timeout (10 s)
 * @param maxParallelMigrations how many migrations the worker holding the commands lets run at once (each in a lane
 *                              of its own, never two on one shard); capped by the migration-lanes topic's partitions
 * @param health                how the worker holding the commands probes the shards and when it marks one DOWN or UP
 * @param connectUrl            Kafka Connect's REST URL: the worker deploys the sink connectors that keep standbys up to
 *                              date and points a shard's CDC connector at its standby when it promotes it; null for none
 *                              (then no standby can be added)
 */
public record WorkerConfig(String bootstrapServers, TopicCatalog catalog, String workerId, String groupId, Duration fenceBudget,
                           Duration ackTimeout, Duration maxFenceHold, Duration fenceRetryBackoff, int copyBatchSize,
                           int copyStreams, Duration copyLatencyTarget, Duration gracePeriod, int deleteBatchSize, Duration progressInterval,
                           int verifyFullScanMaxDocs, Duration ownerLease, int maxParallelMigrations,
                           HealthSettings health, String connectUrl) {

    /** The workers' consumer group session timeout: a worker that stops heartbeating loses the commands after this. */
    public static final Duration SESSION_TIMEOUT = Duration.ofSeconds(10);

    public WorkerConfig {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(catalog, "catalog");
        Objects.requireNonNull(workerId, "workerId");
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(health, "health");
        for (Duration d : new Duration[] {fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff, copyLatencyTarget, gracePeriod, progressInterval,
            ownerLease}) {
            Objects.requireNonNull(d, "durations");
            if (d.isNegative()) {
                throw new IllegalArgumentException("durations must not be negative, was " + d);
            }
        }
        if (maxFenceHold.compareTo(ackTimeout) < 0) {
            throw new IllegalArgumentException("maxFenceHold (" + maxFenceHold + ") must be at least ackTimeout (" + ackTimeout + ")");
        }
        if (copyBatchSize < 1 || deleteBatchSize < 1) {
            throw new IllegalArgumentException("copyBatchSize and deleteBatchSize must be positive");
        }
        if (copyStreams < 1) {
            throw new IllegalArgumentException("copyStreams must be at least 1, was " + copyStreams);
        }
        if (ownerLease.toMillis() < 100 || ownerLease.compareTo(SESSION_TIMEOUT) >= 0) {
            throw new IllegalArgumentException("ownerLease must be at least 100 ms and shorter than the session timeout (" + SESSION_TIMEOUT
                + "), was " + ownerLease);
        }
        if (maxParallelMigrations < 1) {
            throw new IllegalArgumentException("maxParallelMigrations must be at least 1, was " + maxParallelMigrations);
        }
        if (verifyFullScanMaxDocs < 0) {
            throw new IllegalArgumentException("verifyFullScanMaxDocs must not be negative");
        }
    }

    public static WorkerConfig defaults(String bootstrapServers, TopicCatalog catalog) {
        return new WorkerConfig(bootstrapServers, catalog, "worker-" + UUID.randomUUID().toString().substring(0, 8), catalog.prefix() + "workers",
            Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(1), 1_000, 2, Duration.ofMillis(250),
            Duration.ofMinutes(5), 1_000, Duration.ofSeconds(1), 5_000, Duration.ofSeconds(5), 4, HealthSettings.DEFAULTS, null);
    }

    public WorkerConfig withWorkerId(String id) {
        return new WorkerConfig(bootstrapServers, catalog, id, groupId, fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff,
            copyBatchSize, copyStreams, copyLatencyTarget, gracePeriod, deleteBatchSize, progressInterval, verifyFullScanMaxDocs, ownerLease, maxParallelMigrations, health, connectUrl);
    }

    public WorkerConfig withGroupId(String group) {
        return new WorkerConfig(bootstrapServers, catalog, workerId, group, fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff,
            copyBatchSize, copyStreams, copyLatencyTarget, gracePeriod, deleteBatchSize, progressInterval, verifyFullScanMaxDocs, ownerLease, maxParallelMigrations, health, connectUrl);
    }

    public WorkerConfig withGracePeriod(Duration grace) {
        return new WorkerConfig(bootstrapServers, catalog, workerId, groupId, fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff,
            copyBatchSize, copyStreams, copyLatencyTarget, grace, deleteBatchSize, progressInterval, verifyFullScanMaxDocs, ownerLease, maxParallelMigrations, health, connectUrl);
    }

    public WorkerConfig withCopyBatchSize(int size) {
        return new WorkerConfig(bootstrapServers, catalog, workerId, groupId, fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff,
            size, copyStreams, copyLatencyTarget, gracePeriod, deleteBatchSize, progressInterval, verifyFullScanMaxDocs, ownerLease, maxParallelMigrations, health, connectUrl);
    }

    public WorkerConfig withCopyLatencyTarget(Duration target) {
        return new WorkerConfig(bootstrapServers, catalog, workerId, groupId, fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff,
            copyBatchSize, copyStreams, target, gracePeriod, deleteBatchSize, progressInterval, verifyFullScanMaxDocs, ownerLease, maxParallelMigrations, health, connectUrl);
    }

    public WorkerConfig withCopyStreams(int streams) {
        return new WorkerConfig(bootstrapServers, catalog, workerId, groupId, fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff,
            copyBatchSize, streams, copyLatencyTarget, gracePeriod, deleteBatchSize, progressInterval, verifyFullScanMaxDocs, ownerLease, maxParallelMigrations, health, connectUrl);
    }

    public WorkerConfig withFence(Duration budget, Duration acks, Duration maxHold, Duration backoff) {
        return new WorkerConfig(bootstrapServers, catalog, workerId, groupId, budget, acks, maxHold, backoff,
            copyBatchSize, copyStreams, copyLatencyTarget, gracePeriod, deleteBatchSize, progressInterval, verifyFullScanMaxDocs, ownerLease, maxParallelMigrations, health, connectUrl);
    }

    public WorkerConfig withVerifyFullScanMaxDocs(int max) {
        return new WorkerConfig(bootstrapServers, catalog, workerId, groupId, fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff,
            copyBatchSize, copyStreams, copyLatencyTarget, gracePeriod, deleteBatchSize, progressInterval, max, ownerLease, maxParallelMigrations, health, connectUrl);
    }

    public WorkerConfig withProgressInterval(Duration interval) {
        return new WorkerConfig(bootstrapServers, catalog, workerId, groupId, fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff,
            copyBatchSize, copyStreams, copyLatencyTarget, gracePeriod, deleteBatchSize, interval, verifyFullScanMaxDocs, ownerLease, maxParallelMigrations, health, connectUrl);
    }

    public WorkerConfig withOwnerLease(Duration lease) {
        return new WorkerConfig(bootstrapServers, catalog, workerId, groupId, fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff,
            copyBatchSize, copyStreams, copyLatencyTarget, gracePeriod, deleteBatchSize, progressInterval, verifyFullScanMaxDocs, lease, maxParallelMigrations, health, connectUrl);
    }

    public WorkerConfig withMaxParallelMigrations(int max) {
        return new WorkerConfig(bootstrapServers, catalog, workerId, groupId, fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff,
            copyBatchSize, copyStreams, copyLatencyTarget, gracePeriod, deleteBatchSize, progressInterval, verifyFullScanMaxDocs, ownerLease, max, health, connectUrl);
    }

    public WorkerConfig withHealth(HealthSettings settings) {
        return new WorkerConfig(bootstrapServers, catalog, workerId, groupId, fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff,
            copyBatchSize, copyStreams, copyLatencyTarget, gracePeriod, deleteBatchSize, progressInterval, verifyFullScanMaxDocs, ownerLease,
            maxParallelMigrations, settings, connectUrl);
    }

    public WorkerConfig withConnectUrl(String url) {
        return new WorkerConfig(bootstrapServers, catalog, workerId, groupId, fenceBudget, ackTimeout, maxFenceHold, fenceRetryBackoff,
            copyBatchSize, copyStreams, copyLatencyTarget, gracePeriod, deleteBatchSize, progressInterval, verifyFullScanMaxDocs, ownerLease,
            maxParallelMigrations, health, url);
    }
}
