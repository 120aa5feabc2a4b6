package io.shardline.controller;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.topology.ControllerTopology;
import io.shardline.topology.RebalanceTopology;
import io.shardline.topology.ShardSizeTopology;

/**
 * The {@code controller} role: runs the size and rebalance topologies with exactly-once processing, corrects the sizes
 * with each shard's {@code dbStats} on an interval, and publishes {@code shard_document_count} and
 * {@code shard_data_volume_bytes} per shard from the stats it writes, {@code shard_rebalancing_events_total} per
 * shard and decision from the events it writes, and {@code shardline_dlq_records_total} per dead-letter topic
 * ({@link DeadLetterMeters}).
 */
public final class ControllerNode implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ControllerNode.class);
    /** How often the dead-letter topics' counts are read. */
    private static final Duration DEAD_LETTERS_EVERY = Duration.ofSeconds(15);

    private final KafkaStreams streams;
    private final StatsFollower stats;
    private final DbStatsCollector collector;
    private final DeadLetterMeters deadLetters;

    private ControllerNode(KafkaStreams streams, StatsFollower stats, DbStatsCollector collector, DeadLetterMeters deadLetters) {
        this.streams = streams;
        this.stats = stats;
        this.collector = collector;
        this.deadLetters = deadLetters;
    }

    /** Starts the controller and waits until its topology runs. */
    public static ControllerNode start(ControllerConfig config, MeterRegistry registry, Duration startupTimeout) throws InterruptedException {
        Properties props = KafkaClients.fromEnvironment(config.bootstrapServers()).streams(Map.of());
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, (int) config.commitInterval().toMillis());
        props.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.METADATA_MAX_AGE_CONFIG), (int) config.topicRefresh().toMillis());
        // A controller that died is noticed within seconds, not the default 45 s.
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 2_000);
        // A control-plane record the controller cannot read goes to the control DLQ with its origin; processing goes on.
        props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterHandler.class);
        props.put(DeadLetterHandler.TOPIC_CONFIG, config.catalog().controlDlq().name());
        props.put(DeadLetterHandler.REPORTER_CONFIG, "controller:" + config.applicationId());
        ShardSizeTopology.Config sizes = ShardSizeTopology.Config.of(config.catalog()).withCdcTopicPrefix(config.cdcTopicPrefix());
        RebalanceTopology.Config decisions = RebalanceTopology.Config.of(config.catalog(), config.balancer());
        KafkaStreams streams = new KafkaStreams(ControllerTopology.build(sizes, decisions), props);
        streams.setUncaughtExceptionHandler(error -> {
            LOG.error("controller stream thread failed; replacing it", error);
            return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        StatsFollower follower = new StatsFollower(config, registry);
        streams.start();
        long deadline = System.nanoTime() + startupTimeout.toNanos();
        while (streams.state() != KafkaStreams.State.RUNNING && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        if (streams.state() != KafkaStreams.State.RUNNING) {
            streams.close(Duration.ofSeconds(10));
            throw new IllegalStateException("the controller did not reach RUNNING within " + startupTimeout + " (state " + streams.state() + ")");
        }
        follower.start();
        DbStatsCollector collector = new DbStatsCollector(config, streams);
        collector.start();
        DeadLetterMeters deadLetters = DeadLetterMeters.start(config.bootstrapServers(), config.catalog(), registry, DEAD_LETTERS_EVERY);
        return new ControllerNode(streams, follower, collector, deadLetters);
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    @Override
    public void close() {
        deadLetters.close();
        collector.close();
        stats.close();
        // Leave the group on a clean stop, so a successor takes over at once instead of after the session timeout.
        streams.close(org.apache.kafka.streams.CloseOptions.timeout(Duration.ofSeconds(30))
            .withGroupMembershipOperation(org.apache.kafka.streams.CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
    }

    /**
     * Follows the shard sizes and the events (read-committed) and keeps the meters current: a pair of gauges per shard,
     * and a counter of decisions per shard and type. A small consumer of its own, so the meters show what was
     * committed, as any other reader of these topics would see it.
     */
    static final class StatsFollower implements AutoCloseable {
        private static final java.util.Set<io.shardline.schemas.avro.ShardEventType> DECISIONS = java.util.EnumSet.of(
            io.shardline.schemas.avro.ShardEventType.SPLIT_DECIDED, io.shardline.schemas.avro.ShardEventType.MERGE_DECIDED,
            io.shardline.schemas.avro.ShardEventType.MOVE_DECIDED, io.shardline.schemas.avro.ShardEventType.CHUNK_UNSPLITTABLE);
        private final Map<String, AtomicLong[]> values = new ConcurrentHashMap<>();
        private final MeterRegistry registry;
        private final ControllerConfig config;
        private final org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]> consumer;
        private final Thread thread;
        private volatile boolean running = true;

        StatsFollower(ControllerConfig config, MeterRegistry registry) {
            this.registry = registry;
            this.config = config;
            Map<String, Object> props = KafkaClients.fromEnvironment(config.bootstrapServers()).reader(
                config.applicationId() + "-meters-" + java.util.UUID.randomUUID(), Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
                // It follows the topics for meters, never reads to an end: the broker's default wait saves fetches.
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 500));
            this.consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(props,
                new org.apache.kafka.common.serialization.StringDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer());
            this.thread = new Thread(this::run, "controller-meters");
            this.thread.setDaemon(true);
        }

        void start() {
            String stats = config.catalog().shardSizes().name();
            // Sizes are state: read them from the start. Events are a log: count what this controller sees from now on.
            consumer.assign(java.util.List.of(new org.apache.kafka.common.TopicPartition(stats, 0),
                new org.apache.kafka.common.TopicPartition(config.catalog().events().name(), 0)));
            consumer.seekToBeginning(java.util.List.of(new org.apache.kafka.common.TopicPartition(stats, 0)));
            thread.start();
        }

        private void run() {
            String statsTopic = config.catalog().shardSizes().name();
            try {
                while (running) {
                    consumer.poll(Duration.ofMillis(200)).forEach(record -> {
                        if (record.value() == null) {
                            return;
                        }
                        try {
                            if (record.topic().equals(statsTopic)) {
                                ShardStats value = config.catalog().shardSizes().valueSerde().deserializer().deserialize(record.topic(), record.value());
                                AtomicLong[] pair = values.computeIfAbsent(record.key(), this::register);
                                pair[0].set(value.getDocumentCount());
                                pair[1].set(value.getDataBytes());
                            } else {
                                count(config.catalog().events().valueSerde().deserializer().deserialize(record.topic(), record.value()));
                            }
                        } catch (org.apache.kafka.common.errors.SerializationException unreadable) {
                            LOG.warn("meters skip an unreadable record at {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                                unreadable.getMessage());
                        }
                    });
                }
            } catch (org.apache.kafka.common.errors.WakeupException stopping) {
                LOG.debug("controller meters stopping");
            } finally {
                consumer.close();
            }
        }

        private void count(io.shardline.schemas.avro.ShardEvent event) {
            if (DECISIONS.contains(event.getType()) && event.getShardId() != null) {
                io.micrometer.core.instrument.Counter.builder("shard.rebalancing.events")
                    .description("Split, merge and move decisions, and chunks found unsplittable, per shard")
                    .tag("shard", event.getShardId()).tag("type", event.getType().name().toLowerCase(java.util.Locale.ROOT))
                    .register(registry).increment();
            }
        }

        private AtomicLong[] register(String shardId) {
            AtomicLong documents = new AtomicLong();
            AtomicLong bytes = new AtomicLong();
            Gauge.builder("shard.document.count", documents, AtomicLong::get).description("Documents on a shard (CDC-derived)")
                .tag("shard", shardId).register(registry);
            Gauge.builder("shard.data.volume", bytes, AtomicLong::get).baseUnit("bytes")
                .description("BSON bytes on a shard (CDC-derived)").tag("shard", shardId).register(registry);
            return new AtomicLong[] {documents, bytes};
        }

        @Override
        public void close() {
            running = false;
            consumer.wakeup();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
