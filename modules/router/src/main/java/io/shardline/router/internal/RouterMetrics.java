package io.shardline.router.internal;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import com.mongodb.event.ConnectionClosedEvent;
import com.mongodb.event.ConnectionCreatedEvent;
import com.mongodb.event.ConnectionPoolListener;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The router's meters, named as operators know them: {@code shard_query_latency_seconds{shard,operation}},
 * {@code cross_shard_query_total{shard_count,success}}, {@code shard_connection_count{shard}}.
 */
public final class RouterMetrics {

    private final MeterRegistry registry;
    private final Map<String, AtomicInteger> connections = new ConcurrentHashMap<>();
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

    /** Counts a query that needed more than one shard. */
    public void crossShard(int shardCount, boolean success) {
        Counter.builder("cross.shard.query")
            .description("Queries that ran on more than one shard")
            .tag("shard_count", Integer.toString(shardCount)).tag("success", Boolean.toString(success))
            .register(registry).increment();
    }

    /** A driver listener that keeps {@code shard_connection_count} of one shard current. */
    public ConnectionPoolListener connectionListener(String shard) {
        AtomicInteger open = connections.computeIfAbsent(shard, id -> {
            AtomicInteger count = new AtomicInteger();
            Gauge.builder("shard.connection.count", count, AtomicInteger::get)
                .description("Open connections of the router to one shard").tag("shard", id).register(registry);
            return count;
        });
        return new ConnectionPoolListener() {
            @Override
            public void connectionCreated(ConnectionCreatedEvent event) {
                open.incrementAndGet();
            }

            @Override
            public void connectionClosed(ConnectionClosedEvent event) {
                open.decrementAndGet();
            }
        };
    }

    public MeterRegistry registry() {
        return registry;
    }
}
