package io.shardline.router;

import java.time.Duration;
import java.util.Objects;

import io.shardline.schemas.TopicCatalog;

/**
 * Settings of a {@link ShardRouter}.
 *
 * @param bootstrapServers Kafka, for the routing, shards and config topics
 * @param catalog          the control-plane topics
 * @param tenantField      the document field that holds the tenant; every request is scoped to its caller's tenant
 * @param shardTimeout     how long one shard may take to answer one request before it counts as missing
 * @param fenceBudget      how long a write to a fenced chunk waits for the next routing version before it fails
 *                         with a retryable error
 * @param routerId         this router's id in its acks and load samples
 * @param signalInterval   how often the router publishes its ack (applied routing version and lease) and its
 *                         query-load samples; an ack also goes out as soon as a new routing version is applied
 * @param leaseDuration    how long an ack entitles the router to serve writes; a router that could not renew its
 *                         lease in time refuses writes by itself, so a fence never waits on a router it cannot hear
 * @param readCacheEntries how many read results the router caches; 0 (the default) turns the cache off. Cached
 *                         results are invalidated by the CDC events of the shards and namespaces they read, by the
 *                         router's own writes, and by routing changes
 * @param maxReadStaleness how long after its lease ran out the router still serves reads from the routing it has. A
 *                         router that has not confirmed its routing for longer may have missed cutovers whose grace
 *                         period is over, so that the old owner no longer holds the range: it first waits (up to the
 *                         shard timeout) to catch up and renew its lease, else the read fails as retryable. Keep it
 *                         well under the workers' grace period
 * @param releaseCheck     when a read looks, on the shards it read, for a record that a range it read there has left
 *                         the shard at a routing version this router has not applied yet (the worker writes one before
 *                         it deletes a moved range from its old owner); if so, the router waits up to the shard
 *                         timeout for that routing version and runs the read again, at most three times
 * @param shardPoolSize    the most connections the router holds to one shard at a time (the driver's
 *                         {@code maxPoolSize}; 100, the driver's default); a request that finds them all in use waits
 *                         for one to come free. It applies to every shard, whatever its connection string says
 * @param shardPoolWait    how long a request waits for a free connection to its shard before it fails with a
 *                         retryable error naming the shard and the pool size (1 s by default, where the driver would
 *                         wait 2 minutes, far past the shard timeout): a pool still full after a second is a shard
 *                         already answering slower than it is asked, and a request failed then leaves room for those
 *                         in flight instead of queueing more behind them. Keep it under the shard timeout, or a
 *                         multi-shard read reports the shard as not answering in time first
 * @param shardPoolIdle    how long a connection to a shard may stay unused in the pool before the router closes it
 *                         (the driver's {@code maxConnectionIdleTime}); zero (the default) keeps it open until the
 *                         shard closes it: after a burst, a shorter time gives the shard its connections back
 * @param routingStore     a directory where the router keeps a local copy of the routing topic and starts from it,
 *                         reading only what came after (see {@code RoutingStore}); {@code null} (the default) reads
 *                         the whole topic on every start
 * @param standbyAckTimeout how long a write with durability STANDBY waits for the shard's standby to have it (5 s by
 *                         default) before it fails as unconfirmed ({@code RouterException.Kind.STANDBY_UNCONFIRMED}):
 *                         the write was applied on the shard, but may be lost if the shard fails over before the
 *                         standby catches up
 * @param transactions     lock wait, timeout and lifetime of cross-shard transactions ({@link TransactionSettings})
 */
public record RouterConfig(String bootstrapServers, TopicCatalog catalog, String tenantField, Duration shardTimeout,
                           Duration fenceBudget, String routerId, Duration signalInterval, Duration leaseDuration,
                           int readCacheEntries, Duration maxReadStaleness, ReleaseCheck releaseCheck, int shardPoolSize,
                           Duration shardPoolWait, Duration shardPoolIdle, java.nio.file.Path routingStore, Duration standbyAckTimeout,
                           TransactionSettings transactions) {

    /**
     * How this router runs cross-shard transactions.
     *
     * @param lockTimeout how long a statement waits for a document an older transaction holds before the transaction
     *                    gives up with {@code TRANSACTION_CONFLICT} (a younger holder is wounded at once, wound-wait)
     * @param timeout     how long a transaction whose coordinator stopped writing to the coordinator log (it writes a
     *                    heartbeat every third of it) stays open before any router aborts it and releases its intents
     * @param lifetime    the longest a transaction may stay open; its coordinator aborts it after that (MongoDB's
     *                    {@code transactionLifetimeLimitSeconds})
     */
    public record TransactionSettings(Duration lockTimeout, Duration timeout, Duration lifetime) {
        public TransactionSettings {
            Objects.requireNonNull(lockTimeout, "lockTimeout");
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(lifetime, "lifetime");
            if (lockTimeout.isNegative()) {
                throw new IllegalArgumentException("transaction lockTimeout must not be negative, was " + lockTimeout);
            }
            if (timeout.toMillis() < 30) {
                throw new IllegalArgumentException("transaction timeout must be at least 30 ms, was " + timeout);
            }
            if (lifetime.compareTo(timeout) < 0) {
                throw new IllegalArgumentException("transaction lifetime must be at least the timeout (" + timeout + "), was " + lifetime);
            }
        }

        public static TransactionSettings defaults() {
            return new TransactionSettings(Duration.ofMillis(50), Duration.ofSeconds(3), Duration.ofSeconds(60));
        }
    }

    /** When a read confirms with the shards it read that they still hold the ranges it read there. */
    public enum ReleaseCheck {
        /**
         * Only while the router's lease has run out: a router holding a lease has applied every cutover older than
         * the lease, and a range leaves its old owner only a grace period after its cutover.
         */
        WHEN_LEASE_LAPSED,
        /**
         * On every read, one indexed lookup per shard read: also covers a router stalled between a routing
         * lookup and its shard query (a long GC pause) for longer than the grace period.
         */
        EVERY_READ
    }

    public RouterConfig {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(catalog, "catalog");
        Objects.requireNonNull(tenantField, "tenantField");
        Objects.requireNonNull(shardTimeout, "shardTimeout");
        Objects.requireNonNull(fenceBudget, "fenceBudget");
        if (tenantField.isBlank() || tenantField.startsWith("$")) {
            throw new IllegalArgumentException("tenantField must be a field name, was '" + tenantField + "'");
        }
        if (shardTimeout.isNegative() || shardTimeout.isZero()) {
            throw new IllegalArgumentException("shardTimeout must be positive, was " + shardTimeout);
        }
        if (fenceBudget.isNegative()) {
            throw new IllegalArgumentException("fenceBudget must not be negative, was " + fenceBudget);
        }
        Objects.requireNonNull(routerId, "routerId");
        Objects.requireNonNull(signalInterval, "signalInterval");
        Objects.requireNonNull(leaseDuration, "leaseDuration");
        if (routerId.isBlank()) {
            throw new IllegalArgumentException("routerId must not be blank");
        }
        if (signalInterval.toMillis() < 10) {
            throw new IllegalArgumentException("signalInterval must be at least 10 ms, was " + signalInterval);
        }
        if (leaseDuration.toMillis() < 10) {
            throw new IllegalArgumentException("leaseDuration must be at least 10 ms, was " + leaseDuration);
        }
        Objects.requireNonNull(maxReadStaleness, "maxReadStaleness");
        if (maxReadStaleness.isNegative()) {
            throw new IllegalArgumentException("maxReadStaleness must not be negative, was " + maxReadStaleness);
        }
        Objects.requireNonNull(releaseCheck, "releaseCheck");
        if (readCacheEntries < 0) {
            throw new IllegalArgumentException("readCacheEntries must be >= 0, was " + readCacheEntries);
        }
        if (shardPoolSize < 1) {
            throw new IllegalArgumentException("shardPoolSize must be >= 1, was " + shardPoolSize);
        }
        Objects.requireNonNull(shardPoolWait, "shardPoolWait");
        Objects.requireNonNull(shardPoolIdle, "shardPoolIdle");
        if (shardPoolIdle.isNegative()) {
            throw new IllegalArgumentException("shardPoolIdle must not be negative, was " + shardPoolIdle);
        }
        Objects.requireNonNull(transactions, "transactions");
        Objects.requireNonNull(standbyAckTimeout, "standbyAckTimeout");
        if (standbyAckTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("standbyAckTimeout must be at least 1 ms, was " + standbyAckTimeout);
        }
        if (shardPoolWait.toMillis() < 1) {
            throw new IllegalArgumentException("shardPoolWait must be at least 1 ms, was " + shardPoolWait);
        }
    }

    public static RouterConfig defaults(String bootstrapServers, TopicCatalog catalog) {
        return new RouterConfig(bootstrapServers, catalog, "tenantId", Duration.ofSeconds(5), Duration.ofMillis(500),
            "router-" + java.util.UUID.randomUUID().toString().substring(0, 8), Duration.ofSeconds(1), Duration.ofSeconds(5), 0,
            Duration.ofSeconds(60), ReleaseCheck.WHEN_LEASE_LAPSED, 100, Duration.ofSeconds(1), Duration.ZERO, null, Duration.ofSeconds(5),
            TransactionSettings.defaults());
    }

    public RouterConfig withShardTimeout(Duration timeout) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, timeout, fenceBudget, routerId, signalInterval, leaseDuration, readCacheEntries,
            maxReadStaleness, releaseCheck, shardPoolSize, shardPoolWait, shardPoolIdle, routingStore, standbyAckTimeout, transactions);
    }

    public RouterConfig withFenceBudget(Duration budget) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, budget, routerId, signalInterval, leaseDuration, readCacheEntries,
            maxReadStaleness, releaseCheck, shardPoolSize, shardPoolWait, shardPoolIdle, routingStore, standbyAckTimeout, transactions);
    }

    public RouterConfig withTenantField(String field) {
        return new RouterConfig(bootstrapServers, catalog, field, shardTimeout, fenceBudget, routerId, signalInterval, leaseDuration, readCacheEntries,
            maxReadStaleness, releaseCheck, shardPoolSize, shardPoolWait, shardPoolIdle, routingStore, standbyAckTimeout, transactions);
    }

    public RouterConfig withReadCacheEntries(int entries) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, fenceBudget, routerId, signalInterval, leaseDuration, entries,
            maxReadStaleness, releaseCheck, shardPoolSize, shardPoolWait, shardPoolIdle, routingStore, standbyAckTimeout, transactions);
    }

    public RouterConfig withRouterId(String id) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, fenceBudget, id, signalInterval, leaseDuration, readCacheEntries,
            maxReadStaleness, releaseCheck, shardPoolSize, shardPoolWait, shardPoolIdle, routingStore, standbyAckTimeout, transactions);
    }

    public RouterConfig withSignalInterval(Duration interval) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, fenceBudget, routerId, interval, leaseDuration, readCacheEntries,
            maxReadStaleness, releaseCheck, shardPoolSize, shardPoolWait, shardPoolIdle, routingStore, standbyAckTimeout, transactions);
    }

    public RouterConfig withLeaseDuration(Duration lease) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, fenceBudget, routerId, signalInterval, lease, readCacheEntries,
            maxReadStaleness, releaseCheck, shardPoolSize, shardPoolWait, shardPoolIdle, routingStore, standbyAckTimeout, transactions);
    }

    public RouterConfig withMaxReadStaleness(Duration staleness) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, fenceBudget, routerId, signalInterval, leaseDuration, readCacheEntries,
            staleness, releaseCheck, shardPoolSize, shardPoolWait, shardPoolIdle, routingStore, standbyAckTimeout, transactions);
    }

    public RouterConfig withReleaseCheck(ReleaseCheck check) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, fenceBudget, routerId, signalInterval, leaseDuration, readCacheEntries,
            maxReadStaleness, check, shardPoolSize, shardPoolWait, shardPoolIdle, routingStore, standbyAckTimeout, transactions);
    }

    public RouterConfig withShardPoolSize(int size) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, fenceBudget, routerId, signalInterval, leaseDuration, readCacheEntries,
            maxReadStaleness, releaseCheck, size, shardPoolWait, shardPoolIdle, routingStore, standbyAckTimeout, transactions);
    }

    public RouterConfig withShardPoolWait(Duration wait) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, fenceBudget, routerId, signalInterval, leaseDuration, readCacheEntries,
            maxReadStaleness, releaseCheck, shardPoolSize, wait, shardPoolIdle, routingStore, standbyAckTimeout, transactions);
    }

    public RouterConfig withShardPoolIdle(Duration idle) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, fenceBudget, routerId, signalInterval, leaseDuration, readCacheEntries,
            maxReadStaleness, releaseCheck, shardPoolSize, shardPoolWait, idle, routingStore, standbyAckTimeout, transactions);
    }

    /** Keep a local copy of the routing in {@code directory} and start from it ({@code null}: read the whole topic on start). */
    public RouterConfig withRoutingStore(java.nio.file.Path directory) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, fenceBudget, routerId, signalInterval, leaseDuration, readCacheEntries,
            maxReadStaleness, releaseCheck, shardPoolSize, shardPoolWait, shardPoolIdle, directory, standbyAckTimeout, transactions);
    }

    /** How long a write with durability STANDBY waits for the shard's standby to confirm it. */
    public RouterConfig withStandbyAckTimeout(Duration timeout) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, fenceBudget, routerId, signalInterval, leaseDuration, readCacheEntries,
            maxReadStaleness, releaseCheck, shardPoolSize, shardPoolWait, shardPoolIdle, routingStore, timeout, transactions);
    }

    /** How this router runs cross-shard transactions. */
    public RouterConfig withTransactions(TransactionSettings settings) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, fenceBudget, routerId, signalInterval, leaseDuration, readCacheEntries,
            maxReadStaleness, releaseCheck, shardPoolSize, shardPoolWait, shardPoolIdle, routingStore, standbyAckTimeout, settings);
    }
}
