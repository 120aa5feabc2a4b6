package io.shardline.router.internal;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import com.mongodb.event.ConnectionCheckOutFailedEvent;
import com.mongodb.event.ConnectionCheckOutStartedEvent;
import com.mongodb.event.ConnectionCheckedInEvent;
import com.mongodb.event.ConnectionCheckedOutEvent;
import com.mongodb.event.ConnectionClosedEvent;
import com.mongodb.event.ConnectionCreatedEvent;
import com.mongodb.event.ConnectionPoolListener;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The router's meters, named as operators know them: {@code shard_query_latency_seconds{shard,operation}},
 * {@code cross_shard_query_total{shard_count,success}}, {@code router_shard_down_refused_total{shard}},
 * {@code shard_connection_count{shard}} and the other gauges of the router's connection pool to each shard
 * ({@link #connectionListener}).
 */
public final class RouterMetrics {

    private final MeterRegistry registry;
    private final Map<String, Pool> pools = new ConcurrentHashMap<>();
    /** The latency timer per shard and operation, looked up once rather than registered on every call. */
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();

    public RouterMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    /** Runs one shard call and records its latency. */
    public <T> T timed(String shard, String operation, Supplier<T> call) {
        Timer timer = timers.computeIfAbsent(shard + '\u0000' + operation, key -> Timer.builder("shard.query.latency")
            .description("Latency of one call of the router to one shard")
            .tag("shard", shard).tag("operation", operation)
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10))
            .register(registry));
        return timer.record(call);
    }

    /** Counts a read that a shard refused as based on stale routing (it was refreshed and retried, or failed). */
    public void staleRouting() {
        Counter.builder("router.stale.routing")
            .description("Reads that met a range released at a routing version the router had not applied")
            .register(registry).increment();
    }

    /**
     * Counts a request refused, or a shard left out of a partial read, because the shard's descriptor says DOWN:
     * {@code router_shard_down_refused_total{shard}}.
     */
    public void shardDownRefused(String shard) {
        Counter.builder("router.shard.down.refused")
            .description("Requests (or the part of a partial read for one shard) the router did not send because the shard is DOWN")
            .tag("shard", shard).register(registry).increment();
    }

    /**
     * The router's lease as a gauge, {@code router_lease_valid}: 1 while its acks reach Kafka, 0 once the lease lapsed
     * and the router refuses writes.
     */
    public void lease(java.util.function.BooleanSupplier valid) {
        Gauge.builder("router.lease.valid", valid, v -> v.getAsBoolean() ? 1 : 0).strongReference(true)
            .description("1 while the router's lease is valid; 0 once it lapsed (its acks do not reach Kafka) and it refuses writes")
            .register(registry);
    }

    /**
     * How long a write with durability STANDBY waited for its shard's standby, by outcome ({@code confirmed},
     * {@code timeout}, {@code lost}, {@code refused}, {@code unknown}): {@code router_standby_wait_seconds}.
     */
    public void standbyWait(String outcome, long nanos) {
        Timer.builder("router.standby.wait").description("How long writes with durability STANDBY waited for the shard's standby, by outcome")
            .tag("outcome", outcome).publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10)).register(registry)
            .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /**
     * A transaction this router coordinated ended, by outcome ({@code committed}, {@code aborted}, {@code unknown}: its
     * commit could not learn the decision): {@code shard_transactions_total}.
     */
    public void transactionEnded(String outcome) {
        Counter.builder("shard.transactions").description("Transactions this router coordinated, by outcome").tag("outcome", outcome)
            .register(registry).increment();
    }

    /** A commit's time, from its request to its answer, decision and resolution included: {@code shard_transaction_commit_seconds}. */
    public void transactionCommit(long nanos) {
        Timer.builder("shard.transaction.commit").description("From a commit's request to its answer, decision and resolution of every intent included")
            .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10))
            .register(registry).record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    /** A transaction of another coordinator this router finished: {@code shard_transactions_recovered_total}. */
    public void transactionRecovered() {
        Counter.builder("shard.transactions.recovered").description("Transactions this router finished for a coordinator that had stopped")
            .register(registry).increment();
    }

    /**
     * Transactions on the coordinator log whose coordinator's heartbeat or resolution is overdue:
     * {@code shard_transactions_in_doubt}.
     */
    public void transactionsInDoubt(java.util.function.LongSupplier inDoubt) {
        Gauge.builder("shard.transactions.in.doubt", inDoubt, supplier -> supplier.getAsLong()).strongReference(true)
            .description("Transactions on the coordinator log not yet resolved whose coordinator's heartbeat or resolution is overdue")
            .register(registry);
    }

    /** Counts a query that needed more than one shard. */
    public void crossShard(int shardCount, boolean success) {
        Counter.builder("cross.shard.query")
            .description("Queries that ran on more than one shard")
            .tag("shard_count", Integer.toString(shardCount)).tag("success", Boolean.toString(success))
            .register(registry).increment();
    }

    /** What the router's pool to one shard holds, as its gauges read it. */
    private static final class Pool {
        final AtomicInteger open = new AtomicInteger();
        final AtomicInteger inUse = new AtomicInteger();
        final AtomicInteger waiting = new AtomicInteger();
        final AtomicInteger max = new AtomicInteger();
    }

    /**
     * A driver listener that keeps the gauges of one shard's connection pool current: {@code shard_connection_count}
     * (open connections), {@code shard_connection_in_use} (checked out by a request), {@code shard_connection_wait_queue}
     * (requests waiting for a connection) and {@code shard_connection_max} (the most the pool opens).
     *
     * @param maxSize the pool's maximum size
     */
    public ConnectionPoolListener connectionListener(String shard, int maxSize) {
        Pool pool = pools.computeIfAbsent(shard, id -> {
            Pool created = new Pool();
            gauge("shard.connection.count", "Open connections of the router to one shard", id, created.open);
            gauge("shard.connection.in.use", "Connections of the router to one shard checked out by a request", id, created.inUse);
            gauge("shard.connection.wait.queue", "Requests of the router waiting for a free connection to one shard", id,
                created.waiting);
            gauge("shard.connection.max", "The most connections the router opens to one shard", id, created.max);
            return created;
        });
        pool.max.set(maxSize);
        return new ConnectionPoolListener() {
            @Override
            public void connectionCreated(ConnectionCreatedEvent event) {
                pool.open.incrementAndGet();
            }

            @Override
            public void connectionClosed(ConnectionClosedEvent event) {
                pool.open.decrementAndGet();
            }

            @Override
            public void connectionCheckOutStarted(ConnectionCheckOutStartedEvent event) {
                pool.waiting.incrementAndGet();
            }

            @Override
            public void connectionCheckedOut(ConnectionCheckedOutEvent event) {
                pool.waiting.decrementAndGet();
                pool.inUse.incrementAndGet();
            }

            @Override
            public void connectionCheckOutFailed(ConnectionCheckOutFailedEvent event) {
                pool.waiting.decrementAndGet();
            }

            @Override
            public void connectionCheckedIn(ConnectionCheckedInEvent event) {
                pool.inUse.decrementAndGet();
            }
        };
    }

    /** What the router read to build its routing: records from the topic, and chunks from its local store. */
    public void routingFeed(RoutingStateConsumer consumer) {
        io.micrometer.core.instrument.FunctionCounter.builder("routing.records.read", consumer, RoutingStateConsumer::routingRecordsRead)
            .description("Routing records (and tombstones) the router read from the routing topic since it started").register(registry);
        Gauge.builder("routing.store.chunks.loaded", consumer, RoutingStateConsumer::storedChunksLoaded)
            .description("Chunk records the router loaded from its local routing store when it started; 0 when it read the whole topic")
            .register(registry);
    }

    private void gauge(String name, String description, String shard, AtomicInteger value) {
        Gauge.builder(name, value, AtomicInteger::get).description(description).tag("shard", shard).register(registry);
    }

    public MeterRegistry registry() {
        return registry;
    }
}
