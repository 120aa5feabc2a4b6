package io.shardline.worker.health;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardline.schemas.ConnectRestClient;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardHealth;
import io.shardline.schemas.avro.ShardState;
import io.shardline.worker.config.HealthSettings;
import io.shardline.worker.plane.ControlPlane;
import io.shardline.worker.plane.Ownership;

/**
 * Watches the registered shards from the worker that holds the commands (the one writer of shard descriptors): every
 * interval each shard not RETIRED is probed with {@code hello} and a one-document read, all at once, each bounded by the
 * interval. A shard unseen for the down-after period gets a new descriptor version with health DOWN and a
 * {@code SHARD_DOWN} event naming the cause; one answering again for the up-after period gets UP and {@code SHARD_UP}.
 * Routers fail a DOWN shard's requests at once instead of waiting out their timeouts. A worker that loses the commands
 * stops publishing and forgets what it saw; its successor starts watching afresh. With Kafka Connect at hand, a DOWN
 * shard that has a standby is failed over to it ({@link Failover}), and a former primary that answers again becomes the
 * shard's standby ({@link StandbySeeder}).
 */
public final class HealthMonitor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(HealthMonitor.class);
    /** The longest cause a descriptor and an event carry: the driver's messages list every server it tried. */
    private static final int MAX_CAUSE = 400;
    /** How soon a failover or a re-seeding that did not succeed is tried again. */
    private static final Duration RECOVERY_RETRY = Duration.ofSeconds(5);

    private record Probe(String connectionString, MongoClient client) {
    }

    private final ControlPlane plane;
    private final Ownership ownership;
    private final HealthSettings settings;
    private final MeterRegistry registry;
    private final ScheduledExecutorService ticks;
    private final ExecutorService probing = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "health-probe");
        thread.setDaemon(true);
        return thread;
    });
    private final Map<String, Probe> probes = new ConcurrentHashMap<>();
    private final Map<String, HealthTracker> trackers = new HashMap<>();
    private final Map<String, AtomicInteger> healthy = new ConcurrentHashMap<>();
    private long watchedTerm = -1;
    /** Failovers and re-seedings, one at a time, off the probing thread; null without Kafka Connect. */
    private final ExecutorService recovery;
    private final Failover failover;
    private final StandbySeeder seeder;
    private final Map<String, Long> lastRecovery = new ConcurrentHashMap<>();
    private final java.util.Set<String> recovering = ConcurrentHashMap.newKeySet();

    /**
     * @param connect Kafka Connect's REST API, where standbys' sinks and shards' CDC connectors run; null when the worker
     *                has none (DOWN shards are then only marked, never failed over)
     */
    public HealthMonitor(ControlPlane plane, Ownership ownership, HealthSettings settings, MeterRegistry registry, String workerId,
                         ConnectRestClient connect) {
        this.plane = plane;
        this.ownership = ownership;
        this.settings = settings;
        this.registry = registry;
        this.ticks = Executors.newSingleThreadScheduledExecutor(task -> new Thread(task, "health-" + workerId));
        this.recovery = connect == null ? null : Executors.newSingleThreadExecutor(task -> new Thread(task, "failover-" + workerId));
        this.failover = connect == null ? null : new Failover(plane, ownership, connect, settings.catchUpWithin());
        this.seeder = connect == null ? null : new StandbySeeder(plane, connect);
    }

    public HealthMonitor start() {
        long every = settings.interval().toMillis();
        ticks.scheduleAtFixedRate(this::tickLogged, every, every, TimeUnit.MILLISECONDS);
        return this;
    }

    private void tickLogged() {
        try {
            tick();
        } catch (Ownership.Lost | ControlPlane.DescriptorChanged expected) {
            LOG.info("health monitor: {}; watching again at the next probe", expected.getMessage());
        } catch (RuntimeException e) {
            LOG.warn("health monitor: a round of probes failed: {}", e.toString(), e);
        }
    }

    /** One round: probe every shard, then publish what changed. Runs on the monitor's thread only. */
    void tick() {
        if (!ownership.valid()) {
            trackers.clear();
            watchedTerm = -1;
            // What this worker saw is not what the one watching now sees: its gauges go rather than stay frozen.
            healthy.keySet().forEach(id -> registry.find("shard.healthy").tag("shard", id).meters().forEach(registry::remove));
            healthy.clear();
            return;
        }
        if (ownership.term() != watchedTerm) {
            trackers.clear();
            watchedTerm = ownership.term();
        }
        Map<String, ShardDescriptor> shards = new HashMap<>();
        plane.shards().values().forEach((id, shard) -> {
            if (shard.getState() != ShardState.RETIRED) {
                shards.put(id, shard);
            }
        });
        trackers.keySet().retainAll(shards.keySet());
        Map<String, Future<String>> running = new HashMap<>();
        shards.forEach((id, shard) -> running.put(id, probing.submit(() -> probe(shard))));
        long deadline = System.nanoTime() + settings.interval().toNanos();
        for (Map.Entry<String, Future<String>> entry : running.entrySet()) {
            String id = entry.getKey();
            String failure = outcome(entry.getValue(), deadline);
            if (failure != null) {
                Counter.builder("shard.health.probe.failures").description("health probes of a shard that failed or timed out")
                    .tag("shard", id).register(registry).increment();
            }
            long now = System.nanoTime();
            ShardDescriptor shard = shards.get(id);
            HealthTracker tracker = trackers.get(id);
            if (tracker == null || !tracker.watches(shard.getConnectionString())) {
                // A shard at a new address (a failover) is watched afresh: what its old address did says nothing of it.
                tracker = new HealthTracker(settings, now, shard.getConnectionString());
                trackers.put(id, tracker);
            }
            gauge(id).set(shard.getHealth() == ShardHealth.DOWN ? 0 : 1);
            Optional<HealthTracker.Transition> change = tracker.observe(failure, shard.getHealth(), now, Instant.now());
            // A shard being failed over or re-seeded is the failover's: its health is published with its new address.
            if (change.isPresent() && !recovering.contains(id)) {
                try {
                    publish(shard, change.get());
                } catch (IllegalStateException raced) {
                    LOG.warn("health of shard {} not published this round: {}", id, raced.getMessage());
                }
            }
        }
        if (recovery != null) {
            plane.shards().values().values().forEach(this::recoverIfNeeded);
        }
    }

    /**
     * A DOWN shard with a standby is failed over; a shard whose former primary answers again gets it back as its standby,
     * wiped and seeded anew (it may hold writes that were never captured: it is never a primary again). One at a time,
     * each shard at most once per {@link #RECOVERY_RETRY}.
     */
    private void recoverIfNeeded(ShardDescriptor shard) {
        boolean promote = shard.getHealth() == ShardHealth.DOWN && shard.getStandbyConnectionString() != null && shard.getState() != ShardState.RETIRED;
        boolean reintegrate = shard.getHealth() == ShardHealth.UP && shard.getFailedOverFrom() != null && shard.getStandbyConnectionString() == null
            && shard.getState() != ShardState.RETIRED;
        long now = System.nanoTime();
        Long last = lastRecovery.get(shard.getShardId());
        if (!(promote || reintegrate) || (last != null && now - last < RECOVERY_RETRY.toNanos()) || !recovering.add(shard.getShardId())) {
            return;
        }
        lastRecovery.put(shard.getShardId(), now);
        recovery.execute(() -> {
            try {
                if (promote) {
                    failover.promote(shard);
                } else {
                    reintegrate(shard);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                LOG.warn("recovery of shard {} failed; it is tried again: {}", shard.getShardId(), e.toString(), e);
            } finally {
                recovering.remove(shard.getShardId());
            }
        });
    }

    private void reintegrate(ShardDescriptor shard) {
        String former = shard.getFailedOverFrom();
        // Never the shard itself, nor any other registered shard or standby: seeding wipes the server it is given.
        for (ShardDescriptor registered : plane.shards().refresh().values().values()) {
            if (former.equals(registered.getConnectionString()) || former.equals(registered.getStandbyConnectionString())) {
                LOG.warn("the former primary {} of shard {} is in use by shard {}; it is not taken back as a standby", former, shard.getShardId(),
                    registered.getShardId());
                return;
            }
        }
        try (var client = StandbySeeder.client(former, Duration.ofSeconds(1))) {
            client.getDatabase("admin").runCommand(new Document("ping", 1));
        } catch (RuntimeException stillDown) {
            LOG.debug("the former primary {} of shard {} does not answer yet: {}", former, shard.getShardId(), stillDown.getMessage());
            return;
        }
        ownership.check();
        ShardDescriptor current = plane.shards().get(shard.getShardId());
        if (current == null || current.getVersion() != shard.getVersion()) {
            return;
        }
        if (StandbySeeder.sameServer(former, current.getConnectionString())) {
            LOG.warn("the former primary {} of shard {} is the server the shard is at now; it is not taken back as a standby", former,
                shard.getShardId());
            return;
        }
        long copied = seeder.seed(shard, former, true);
        plane.atomically(() -> {
            ownership.check();
            ShardDescriptor now = plane.shards().get(shard.getShardId());
            if (now.getStandbyConnectionString() != null || !former.equals(now.getFailedOverFrom())) {
                throw new IllegalStateException("shard " + shard.getShardId() + " changed while its former primary was seeded: " + now);
            }
            plane.publishShard(ShardDescriptor.newBuilder(now).setStandbyConnectionString(former).setFailedOverFrom(null)
                .setVersion(now.getVersion() + 1).setUpdatedAt(Instant.now()).build());
            plane.event(ShardEventType.STANDBY_ADDED, shard.getShardId(), null, null, null, null, "the former primary " + former + " of shard "
                + shard.getShardId() + " answers again: wiped, seeded with " + copied + " documents and kept up to date as its standby",
                Map.of("documents", (double) copied));
        });
    }

    private static String outcome(Future<String> probe, long deadlineNanos) {
        try {
            return probe.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            probe.cancel(true);
            return "no answer within the probe interval";
        } catch (ExecutionException e) {
            String cause = e.getCause().toString();
            return cause.length() > MAX_CAUSE ? cause.substring(0, MAX_CAUSE) + "…" : cause;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** Null when the shard answered {@code hello} and a read; else why not. */
    private String probe(ShardDescriptor shard) {
        Probe probe = probes.compute(shard.getShardId(), (id, held) -> {
            if (held != null && held.connectionString().equals(shard.getConnectionString())) {
                return held;
            }
            if (held != null) {
                held.client().close();
            }
            // The driver gives up a little before the interval ends, so a failed probe reports the driver's reason
            // (connection refused, a timeout reading) rather than only that the interval passed.
            int millis = (int) Math.max(5, settings.interval().toMillis() * 3 / 4);
            MongoClientSettings client = MongoClientSettings.builder().applyConnectionString(new ConnectionString(shard.getConnectionString()))
                .applyToClusterSettings(c -> c.serverSelectionTimeout(millis, TimeUnit.MILLISECONDS))
                .applyToSocketSettings(s -> s.connectTimeout(millis, TimeUnit.MILLISECONDS).readTimeout(millis, TimeUnit.MILLISECONDS))
                .applyToServerSettings(s -> s.heartbeatFrequency(Math.max(millis, 500), TimeUnit.MILLISECONDS)
                    .minHeartbeatFrequency(Math.min(millis, 500), TimeUnit.MILLISECONDS))
                .build();
            return new Probe(shard.getConnectionString(), MongoClients.create(client));
        });
        Timer.Sample sample = Timer.start(registry);
        Document hello = probe.client().getDatabase("admin").runCommand(new Document("hello", 1));
        probe.client().getDatabase("shardline").getCollection("health").find().limit(1).first();
        sample.stop(Timer.builder("shard.health.probe").description("health probes of a shard that answered").tag("shard", shard.getShardId())
            .register(registry));
        return hello.get("ok") instanceof Number ok && ok.doubleValue() == 1.0 ? null : "hello answered " + hello.toJson();
    }

    private void publish(ShardDescriptor shard, HealthTracker.Transition transition) {
        plane.atomically(() -> {
            ownership.check();
            ShardDescriptor current = plane.shards().get(shard.getShardId());
            if (current == null || current.getHealth() == transition.to()) {
                return;
            }
            plane.publishShard(ShardDescriptor.newBuilder(current).setHealth(transition.to()).setHealthSince(transition.since())
                .setHealthCause(transition.to() == ShardHealth.DOWN ? transition.cause() : null).setVersion(current.getVersion() + 1)
                .setUpdatedAt(Instant.now()).build());
            boolean down = transition.to() == ShardHealth.DOWN;
            plane.event(down ? ShardEventType.SHARD_DOWN : ShardEventType.SHARD_UP, shard.getShardId(), null, null, null, null,
                "shard " + shard.getShardId() + (down ? " is DOWN: " : " is UP again: ") + transition.cause(),
                Map.of(down ? "unseenMillis" : "answeringMillis", (double) transition.evidence().toMillis()));
        });
        gauge(shard.getShardId()).set(transition.to() == ShardHealth.DOWN ? 0 : 1);
        Counter.builder("shard.health.changes").description("shard health changes this worker published").tag("shard", shard.getShardId())
            .tag("health", transition.to().name()).register(registry).increment();
        LOG.warn("shard {} is {}: {}", shard.getShardId(), transition.to(), transition.cause());
    }

    private AtomicInteger gauge(String shardId) {
        return healthy.computeIfAbsent(shardId, id -> {
            AtomicInteger value = new AtomicInteger(1);
            Gauge.builder("shard.healthy", value, AtomicInteger::get).description("1 while a shard's descriptor says UP, 0 while DOWN")
                .tag("shard", id).register(registry);
            return value;
        });
    }

    @Override
    public void close() {
        if (recovery != null) {
            recovery.shutdownNow();
        }
        ticks.shutdownNow();
        try {
            ticks.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        probing.shutdownNow();
        probes.values().forEach(probe -> probe.client().close());
        probes.clear();
    }
}
