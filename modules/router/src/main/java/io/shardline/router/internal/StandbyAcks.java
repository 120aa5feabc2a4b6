package io.shardline.router.internal;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoException;
import com.mongodb.ServerAddress;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;

import io.shardline.core.standby.StandbyProgressLayout;
import io.shardline.router.api.RouterException;
import io.shardline.schemas.avro.ShardDescriptor;

/**
 * Durability {@code STANDBY}: a write is acknowledged only once the standby of the shard it went to has applied it. The
 * standby's sink records, per namespace, the shard cluster time of the latest change it has dealt with
 * ({@link StandbyProgressLayout}); the shard answered the write with its own cluster time ({@link OperationTimes}), so
 * the write is on the standby once the namespace's record reaches that time. One poller per standby reads the records
 * while writes wait for them, every {@value #POLL_MILLIS} ms at most however many wait.
 *
 * <p>The standby waited on is the one the shard's descriptor named when the write was sent ({@link Sent}). After a
 * failover that standby is the shard, and its records stay as they were when it was promoted: a write they cover
 * survived the failover, any other was lost with the old primary and is not acknowledged.
 */
public final class StandbyAcks implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StandbyAcks.class);
    static final long POLL_MILLIS = 2;
    /** How long a poller may wait for the standby's server or its answer. */
    private static final int STANDBY_TIMEOUT_MILLIS = 2_000;

    /** Where a write was sent: the shard, and the addresses its descriptor gave the shard and its standby then. */
    public record Sent(String shard, String primary, String standby) {
    }

    private final RoutingState state;
    private final long timeoutMillis;
    private final RouterMetrics metrics;
    private final Map<String, Watch> watches = new ConcurrentHashMap<>();
    /** The standby each shard's descriptor named last, to tell a standby seeded anew. */
    private final Map<String, String> standbyOf = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** @param timeout how long a write waits for its standby before it fails as unconfirmed */
    public StandbyAcks(RoutingState state, Duration timeout, RouterMetrics metrics) {
        this.state = state;
        this.timeoutMillis = timeout.toMillis();
        this.metrics = metrics;
        state.onShardChange(this::changed);
    }

    /** What the shard's descriptor says now, to be passed to {@link #await} once the write sent now is answered. */
    public Sent sending(String shard) {
        ShardDescriptor descriptor = state.shard(shard).orElse(null);
        return descriptor == null ? new Sent(shard, null, null)
            : new Sent(shard, descriptor.getConnectionString(), descriptor.getStandbyConnectionString());
    }

    /**
     * Returns once the standby the write was sent with has applied the namespace's changes up to {@code clusterTime};
     * at once when the shard had no standby or the reply carried no time ({@code clusterTime} 0). A write answered by
     * the standby itself (the shard failed over between the descriptor read for {@code sent} and the write) is on the
     * promoted shard: it waits for that shard's own standby, if it has one yet.
     *
     * @param answeredBy the server that answered the write, {@code null} when unknown
     * @throws RouterException {@link RouterException.Kind#STANDBY_UNCONFIRMED} when the standby did not confirm it in
     *                         time, refused it, or the shard failed over to a standby that does not hold it
     */
    public void await(Sent sent, ServerAddress answeredBy, String namespace, long clusterTime) {
        if (sent.standby() == null || clusterTime == 0) {
            return;
        }
        if (answeredBy != null && new ConnectionString(sent.standby()).getHosts().contains(answeredBy.toString())) {
            Sent now = sending(sent.shard());
            if (!sent.standby().equals(now.standby())) {
                await(now, null, namespace, clusterTime);
            }
            return;
        }
        long started = System.nanoTime();
        long promotionSeen = 0;
        long deadline = started + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        String outcome = "timeout";
        if (!named(sent.standby())) {
            outcome = "unknown";
            metrics.standbyWait(outcome, 0);
            throw new RouterException(RouterException.Kind.STANDBY_UNCONFIRMED, "the write was applied on shard " + sent.shard() + " but its standby "
                + sent.standby() + " is no longer any shard's standby or address, so it cannot confirm it: it may be lost if the shard fails over");
        }
        Watch watch = watches.computeIfAbsent(sent.standby(), Watch::new);
        try {
            while (true) {
                if (watch.refused(namespace, clusterTime)) {
                    outcome = "refused";
                    throw new RouterException(RouterException.Kind.STANDBY_UNCONFIRMED, "the write was applied on shard " + sent.shard()
                        + " but its standby " + sent.standby() + " refused it (its sink sent it to the dead-letter topic): it is lost if the"
                        + " shard fails over");
                }
                if (watch.covers(namespace, clusterTime)) {
                    outcome = "confirmed";
                    return;
                }
                if (promotionSeen == 0 && promoted(sent)) {
                    promotionSeen = System.nanoTime();
                }
                // Promoted, the standby applies nothing more: a read of its records begun since then is final.
                if (promotionSeen != 0 && watch.readSince(promotionSeen)) {
                    outcome = "lost";
                    throw new RouterException(RouterException.Kind.STANDBY_UNCONFIRMED, "shard " + sent.shard() + " failed over to its standby "
                        + sent.standby() + ", which had not applied this write when it was promoted: the write was applied on the old primary "
                        + sent.primary() + " and is lost with it");
                }
                if (System.nanoTime() >= deadline || closed) {
                    throw new RouterException(RouterException.Kind.STANDBY_UNCONFIRMED, "the write was applied on shard " + sent.shard()
                        + " but its standby " + sent.standby() + " did not confirm it within " + timeoutMillis + " ms (the standby ack"
                        + " timeout): it may be lost if the shard fails over before the standby applies it" + watch.lastProblem());
                }
                watch.refresh(deadline);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RouterException(RouterException.Kind.STANDBY_UNCONFIRMED, "interrupted while waiting for the standby of shard "
                + sent.shard() + " to confirm the write", e);
        } finally {
            metrics.standbyWait(outcome, System.nanoTime() - started);
        }
    }

    /** True once the shard's descriptor names the standby the write waits on as the shard itself: it was promoted. */
    private boolean promoted(Sent sent) {
        return state.shard(sent.shard()).map(now -> Objects.equals(now.getConnectionString(), sent.standby())).orElse(false);
    }

    /** True while some shard names the address as its standby or (promoted) as itself. */
    private boolean named(String uri) {
        return state.shards().values().stream().anyMatch(s -> uri.equals(s.getStandbyConnectionString()) || uri.equals(s.getConnectionString()));
    }

    /**
     * A standby that no shard names any more has its poller closed; one a shard names as its standby anew (a server
     * seeded again, e.g. a former primary taken back) starts over, as what it recorded before was another shard's.
     */
    private void changed(ShardDescriptor shard) {
        String standby = shard.getStandbyConnectionString();
        String before = standby == null ? null : standbyOf.put(shard.getShardId(), standby);
        if (standby == null) {
            standbyOf.remove(shard.getShardId());
        }
        for (String uri : watches.keySet()) {
            boolean seededAnew = uri.equals(standby) && !standby.equals(before);
            Watch watch = named(uri) && !seededAnew ? null : watches.remove(uri);
            if (watch != null) {
                watch.close();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        watches.values().forEach(Watch::close);
        watches.clear();
    }

    /** One standby's progress records, read by one waiting write at a time. */
    private static final class Watch {
        private final String uri;
        private final MongoClient client;
        private final MongoCollection<Document> progress;
        private final Map<String, Long> times = new ConcurrentHashMap<>();
        private final Map<String, java.util.Set<Long>> refusedTimes = new ConcurrentHashMap<>();
        private final Object lock = new Object();
        private boolean fetching;
        private volatile long fetchedAt = System.nanoTime() - TimeUnit.SECONDS.toNanos(1);
        private volatile long lastReadBegan = fetchedAt;
        private volatile String problem;

        Watch(String uri) {
            this.uri = uri;
            this.client = MongoClients.create(MongoClientSettings.builder().applyConnectionString(new ConnectionString(uri))
                .applyToClusterSettings(c -> c.serverSelectionTimeout(STANDBY_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS))
                .applyToSocketSettings(s -> s.connectTimeout(STANDBY_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                    .readTimeout(STANDBY_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS))
                .build());
            this.progress = client.getDatabase(StandbyProgressLayout.DATABASE).getCollection(StandbyProgressLayout.COLLECTION);
        }

        boolean covers(String namespace, long clusterTime) {
            Long reached = times.get(namespace);
            return reached != null && Long.compareUnsigned(reached, clusterTime) >= 0;
        }

        /** True when the standby's sink refused the namespace's change of that cluster time: the standby never has it. */
        boolean refused(String namespace, long clusterTime) {
            java.util.Set<Long> times = refusedTimes.get(namespace);
            return times != null && times.contains(clusterTime);
        }

        /** True when a read of the records that began after {@code nanos} (a {@code System.nanoTime()}) is done. */
        boolean readSince(long nanos) {
            return lastReadBegan - nanos > 0;
        }

        String lastProblem() {
            String seen = problem;
            return seen == null ? "" : "; reading its progress failed: " + seen;
        }

        /** Reads the records anew if no other write does and the last read is {@value #POLL_MILLIS} ms old; else waits for that read. */
        void refresh(long deadline) throws InterruptedException {
            synchronized (lock) {
                long wait = TimeUnit.NANOSECONDS.toMillis(fetchedAt + TimeUnit.MILLISECONDS.toNanos(POLL_MILLIS) - System.nanoTime());
                if (fetching || wait > 0) {
                    lock.wait(Math.max(1, Math.min(Math.max(wait, POLL_MILLIS), TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) + 1)));
                    return;
                }
                fetching = true;
            }
            long began = System.nanoTime();
            boolean read = false;
            try {
                for (Document namespace : progress.find(Filters.exists(StandbyProgressLayout.CLUSTER_TIME))
                        .projection(Projections.include(StandbyProgressLayout.CLUSTER_TIME, StandbyProgressLayout.REFUSED_CLUSTER_TIMES))) {
                    if (namespace.get(StandbyProgressLayout.CLUSTER_TIME) instanceof Number time && namespace.get("_id") instanceof String name) {
                        times.merge(name, time.longValue(), (a, b) -> Long.compareUnsigned(a, b) >= 0 ? a : b);
                        if (namespace.get(StandbyProgressLayout.REFUSED_CLUSTER_TIMES) instanceof java.util.List<?> refused) {
                            java.util.Set<Long> held = refusedTimes.computeIfAbsent(name, n -> ConcurrentHashMap.newKeySet());
                            refused.forEach(t -> {
                                if (t instanceof Number number) {
                                    held.add(number.longValue());
                                }
                            });
                        }
                    }
                }
                problem = null;
                read = true;
            } catch (MongoException | IllegalStateException e) {
                problem = e.getMessage();
                LOG.debug("reading the progress of standby {} failed: {}", uri, e.getMessage());
            } finally {
                synchronized (lock) {
                    fetching = false;
                    if (read) {
                        // Only a read that succeeded is final for a promoted standby: a failed one says nothing of it.
                        lastReadBegan = began;
                    }
                    fetchedAt = System.nanoTime();
                    lock.notifyAll();
                }
            }
        }

        void close() {
            client.close();
        }
    }
}
