package io.shardline.router.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.KafkaClients;
import io.shardline.core.key.KeyHex;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.AcknowledgedCount;
import io.shardline.schemas.avro.QueryLoadSample;
import io.shardline.schemas.avro.RouterAck;

/**
 * What the router tells the cluster: its ack (the routing version it applied and the lease it holds) on the
 * router-acks topic, and its query-load samples per shard and per chunk on the query-load topic. The lease is
 * renewed only by an ack the broker acknowledged; when renewals stop, {@link #leaseValid()} turns false at the lease's
 * end and the router refuses writes.
 */
public final class RouterSignals implements RouterLease, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RouterSignals.class);

    /** What the signals need of the router's configuration. */
    public record Settings(String routerId, String bootstrapServers, TopicCatalog catalog, Duration signalInterval, Duration leaseDuration) {
    }

    private final Settings config;
    private final RoutingState state;
    private final LoadCounter load;
    private final InFlightWrites inFlight;
    private final AcknowledgedDocuments acknowledged;
    private final KafkaProducer<String, Object> producer;
    private final Admin admin;
    private final ScheduledExecutorService scheduler;
    private volatile long leaseValidUntilMillis;
    private final java.util.concurrent.atomic.AtomicLong leaseLapses = new java.util.concurrent.atomic.AtomicLong();
    /** Orders renewals (on the producer's thread) apart from {@link #ack}'s monitor, which a blocked send may hold. */
    private final Object leaseLock = new Object();
    private volatile long lastAckedVersion = -1;

    public RouterSignals(Settings config, RoutingState state, LoadCounter load, InFlightWrites inFlight, AcknowledgedDocuments acknowledged) {
        this.config = config;
        this.acknowledged = acknowledged;
        this.state = state;
        this.load = load;
        this.inFlight = inFlight;
        KafkaClients clients = KafkaClients.fromEnvironment(config.bootstrapServers());
        Map<String, Object> props = clients.producer(Map.of(
            ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(config.leaseDuration().toMillis(), 1_000) + 1_000,
            ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(config.leaseDuration().toMillis(), 1_000)));
        this.producer = new KafkaProducer<>(props, Serdes.String().serializer(), (topic, value) -> serialize(topic, value));
        this.admin = clients.admin();
        this.scheduler = Executors.newScheduledThreadPool(2, task -> {
            Thread thread = new Thread(task, "router-signals-" + config.routerId());
            thread.setDaemon(true);
            return thread;
        });
    }

    public void start() {
        restoreAcknowledged();
        long interval = config.signalInterval().toMillis();
        scheduler.scheduleAtFixedRate(this::tick, 0, interval, TimeUnit.MILLISECONDS);
        // A new routing version is acknowledged as soon as it is applied, not at the next tick: a fence waits on these acks.
        scheduler.execute(this::ackNewVersions);
    }

    /**
     * Wakes on every routing version applied (and every 10 ms, for writes in flight under an older version that have
     * since finished) and acknowledges what can be acknowledged.
     */
    private void ackNewVersions() {
        long seen = -1;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                seen = state.awaitVersionAbove(seen, 10);
            } catch (InterruptedException stopping) {
                Thread.currentThread().interrupt();
                return;
            }
            ackIfVersionChanged();
        }
    }

    /** True while the last acknowledged ack's lease runs. */
    @Override
    public boolean leaseValid() {
        return System.currentTimeMillis() < leaseValidUntilMillis;
    }

    /** When the lease runs or ran out (epoch millis). */
    public long leaseValidUntilMillis() {
        return leaseValidUntilMillis;
    }

    /**
     * How many times the lease was found run out when an ack came back. A write that read this before it was sent and
     * finds it unchanged, with the lease valid, once answered was sent and answered within one unbroken lease: no
     * worker can have cut over a range it wrote to without this router's ack meanwhile.
     */
    @Override
    public long leaseLapses() {
        return leaseLapses.get();
    }

    private void tick() {
        try {
            ack();
            publishLoad();
            publishAcknowledged();
        } catch (RuntimeException e) {
            LOG.warn("router {} could not publish its signals: {}", config.routerId(), e.toString());
        }
    }

    private void ackIfVersionChanged() {
        if (inFlight.acknowledgeable() != lastAckedVersion) {
            try {
                ack();
            } catch (RuntimeException e) {
                LOG.warn("router {} could not acknowledge routing version {}: {}", config.routerId(), state.version(), e.toString());
            }
        }
    }

    /**
     * Acknowledges the routing version applied, held back while a write that chose its shards under an older version
     * is still in progress: a worker waiting on this ack for its fence must not cut over under such a write.
     */
    private synchronized void ack() {
        if (!caughtUpAfterLapse()) {
            return;
        }
        long version = inFlight.acknowledgeable();
        long now = System.currentTimeMillis();
        long leaseEnd = now + config.leaseDuration().toMillis();
        RouterAck ack = RouterAck.newBuilder().setRouterId(config.routerId()).setRoutingVersion(version)
            .setLeaseExpiresAt(Instant.ofEpochMilli(leaseEnd)).setTimestamp(Instant.ofEpochMilli(now)).build();
        lastAckedVersion = version;
        boolean sentWhileValid = now < leaseValidUntilMillis;
        producer.send(new ProducerRecord<>(config.catalog().routerAcks().name(), config.routerId(), ack), (metadata, error) -> {
            if (error == null) {
                renewed(leaseEnd, sentWhileValid);
            } else {
                LOG.warn("router {} ack for version {} was not written: {}", config.routerId(), version, error.toString());
            }
        });
    }

    /**
     * Extends the lease to {@code leaseEnd} once its ack is written. An ack sent while the lease ran, but written only
     * after it ran out (the router was paused, or Kafka slow), does not: workers stopped waiting for this router
     * meanwhile, so the next ack renews the lease only once the router has caught up with the routing
     * ({@link #caughtUpAfterLapse}).
     */
    private void renewed(long leaseEnd, boolean sentWhileValid) {
        synchronized (leaseLock) {
            if (leaseValidUntilMillis > 0 && System.currentTimeMillis() >= leaseValidUntilMillis) {
                leaseLapses.incrementAndGet();
                if (sentWhileValid) {
                    return;
                }
            }
            leaseValidUntilMillis = Math.max(leaseValidUntilMillis, leaseEnd);
        }
    }

    /**
     * A router whose lease ran out may have missed a fence and its cutover (workers stop waiting for a router whose
     * lease expired). Before it renews the lease, and so takes writes again, it must have applied the routing topic up
     * to its end as it is now.
     */
    private boolean caughtUpAfterLapse() {
        if (System.currentTimeMillis() < leaseValidUntilMillis) {
            return true;
        }
        TopicPartition routing = new TopicPartition(config.catalog().routing().name(), 0);
        try {
            long end = admin.listOffsets(Map.of(routing, OffsetSpec.latest())).partitionResult(routing).get(5, TimeUnit.SECONDS).offset();
            if (state.version() >= end) {
                return true;
            }
            LOG.info("router {} renews its lease once it has applied the routing up to {} (at {})", config.routerId(), end, state.version());
            return false;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("router {} cannot read the end of the routing topic, its lease stays expired: {}", config.routerId(), e.toString());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void publishLoad() {
        load.drain().forEach((target, counts) -> {
            QueryLoadSample sample = QueryLoadSample.newBuilder().setRouterId(config.routerId()).setShardId(target.shardId())
                .setNamespace(target.namespace())
                .setChunkMin(KeyHex.bytes(target.chunkMinHex()))
                .setReads(counts.reads()).setWrites(counts.writes()).build();
            producer.send(new ProducerRecord<>(config.catalog().queryLoad().name(), target.shardId(), sample));
        });
    }

    /** The totals of the chunk ranges whose acknowledged counts changed since the last tick. */
    private void publishAcknowledged() {
        for (AcknowledgedCount count : acknowledged.changed()) {
            String key = io.shardline.schemas.TopicCatalog.acknowledgedKey(config.routerId(), count.getNamespace(),
                KeyHex.of(count.getChunkMin()), KeyHex.of(count.getChunkMax()));
            producer.send(new ProducerRecord<>(config.catalog().acknowledged().name(), key, count));
        }
    }

    /** A router that ran before under the same id goes on from the totals it published. */
    private void restoreAcknowledged() {
        TopicPartition partition = new TopicPartition(config.catalog().acknowledged().name(), 0);
        Map<String, Object> props = KafkaClients.fromEnvironment(config.bootstrapServers()).reader(null, Map.of());
        try (org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(props,
            Serdes.String().deserializer(), Serdes.ByteArray().deserializer())) {
            if (consumer.partitionsFor(partition.topic(), java.time.Duration.ofSeconds(10)).isEmpty()) {
                return;
            }
            consumer.assign(java.util.List.of(partition));
            consumer.seekToBeginning(java.util.List.of(partition));
            long end = consumer.endOffsets(java.util.List.of(partition)).get(partition);
            Map<String, AcknowledgedCount> mine = new HashMap<>();
            String prefix = config.routerId() + "|";
            while (consumer.position(partition) < end) {
                for (var record : consumer.poll(java.time.Duration.ofMillis(200))) {
                    if (record.key() != null && record.key().startsWith(prefix) && record.value() != null) {
                        mine.put(record.key(), config.catalog().acknowledged().valueSerde().deserializer().deserialize(record.topic(), record.value()));
                    }
                }
            }
            mine.values().forEach(acknowledged::restore);
        } catch (RuntimeException e) {
            LOG.warn("router {} could not read the acknowledged counts it published before; it counts from zero: {}", config.routerId(), e.toString());
        }
    }

    private byte[] serialize(String topic, Object value) {
        if (value instanceof RouterAck ack) {
            return config.catalog().routerAcks().valueSerde().serializer().serialize(topic, ack);
        }
        if (value instanceof AcknowledgedCount count) {
            return config.catalog().acknowledged().valueSerde().serializer().serialize(topic, count);
        }
        return config.catalog().queryLoad().valueSerde().serializer().serialize(topic, (QueryLoadSample) value);
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            publishAcknowledged();
        } catch (RuntimeException e) {
            LOG.warn("router {} could not publish its last acknowledged counts: {}", config.routerId(), e.toString());
        }
        producer.close();
        admin.close();
    }
}
