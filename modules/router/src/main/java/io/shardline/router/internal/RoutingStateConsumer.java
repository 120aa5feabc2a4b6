package io.shardline.router.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.KafkaClients;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.Chunk;
import io.shardline.schemas.DeadLetterProducer;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;

/**
 * Feeds a {@link RoutingState} from the compacted shards, config and routing topics: reads them from the beginning,
 * then follows them, so a routing change is applied without restart. A record that cannot be read goes to the
 * control dead-letter topic with its origin and is skipped; it never stops the router.
 *
 * <p>With a {@link RoutingStore}, the routing is loaded from the local copy and the routing topic read from the
 * position the copy was taken at, when the copy is of this very topic (same topic id), that position is still in
 * the topic, and the copy is younger than half the topic's {@code delete.retention.ms} (older, a tombstone written
 * after it may already be compacted away). Once caught up, the consumer writes a new copy in the background at most
 * every {@link #STORE_INTERVAL} while the routing changes, and a last one when it closes; never while a namespace is
 * between the records of one step (a copy taken then would serve no routing for it until the rest is read).
 */
public final class RoutingStateConsumer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RoutingStateConsumer.class);

    static final Duration STORE_INTERVAL = Duration.ofSeconds(10);

    private final RoutingState state;
    private final TopicCatalog catalog;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final DeadLetterProducer deadLetters;
    private final Thread thread;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final KafkaClients clients;
    private final RoutingStore store;
    private final ExecutorService storeWriter;
    private final AtomicBoolean storeWriteRunning = new AtomicBoolean();
    private volatile boolean running = true;
    private volatile long routingRecordsRead;
    private volatile long storedChunksLoaded;
    private long skippedRecords;
    private String topicId;
    private long storedPosition = -1;
    private long storedAtNanos;

    public RoutingStateConsumer(String bootstrapServers, TopicCatalog catalog, RoutingState state, DeadLetterProducer deadLetters) {
        this(bootstrapServers, catalog, state, deadLetters, null);
    }

    /** @param store the local routing copy to start from and keep, or {@code null} to read the whole topic on start */
    public RoutingStateConsumer(String bootstrapServers, TopicCatalog catalog, RoutingState state, DeadLetterProducer deadLetters,
                                RoutingStore store) {
        this.state = state;
        this.catalog = catalog;
        this.deadLetters = deadLetters;
        this.store = store;
        this.clients = KafkaClients.fromEnvironment(bootstrapServers);
        this.consumer = clients.bytesReader(null, Map.of(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50,
            ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 8 * 1024 * 1024, ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000));
        this.storeWriter = store == null ? null : Executors.newSingleThreadExecutor(runnable -> {
            Thread writer = new Thread(runnable, "routing-store-writer");
            writer.setDaemon(true);
            return writer;
        });
        this.thread = new Thread(this::run, "routing-state-consumer");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Waits until everything that was on the topics when the consumer started is applied. */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public long skippedRecords() {
        return skippedRecords;
    }

    /** Routing records (and tombstones) read from the topic since start. */
    public long routingRecordsRead() {
        return routingRecordsRead;
    }

    /** Chunk records loaded from the local routing store on start; 0 when it was not used. */
    public long storedChunksLoaded() {
        return storedChunksLoaded;
    }

    private void run() {
        TopicPartition routingPartition = new TopicPartition(catalog.routing().name(), 0);
        try {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : List.of(catalog.shards().name(), catalog.config().name(), catalog.routing().name())) {
                consumer.partitionsFor(topic, Duration.ofSeconds(30))
                    .forEach(info -> partitions.add(new TopicPartition(info.topic(), info.partition())));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            if (store != null) {
                startFromStore(routingPartition);
            }
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    apply(record);
                }
                long position = consumer.position(routingPartition);
                state.appliedUpTo(position);
                if (caughtUp.getCount() > 0 && end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                    caughtUp.countDown();
                }
                if (store != null && caughtUp.getCount() == 0 && position != storedPosition
                    && System.nanoTime() - storedAtNanos >= STORE_INTERVAL.toNanos() && !storeWriteRunning.get()) {
                    Optional<List<Collection<Chunk>>> records = state.latestRecordsBetweenSteps();
                    if (records.isPresent() && storeWriteRunning.compareAndSet(false, true)) {
                        storedPosition = position;
                        storedAtNanos = System.nanoTime();
                        storeWriter.execute(() -> {
                            try {
                                save(position, records.get());
                            } finally {
                                storeWriteRunning.set(false);
                            }
                        });
                    }
                }
            }
        } catch (WakeupException stopping) {
            LOG.debug("routing state consumer stopping");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (store != null) {
                storeWriter.shutdown();
                if (topicId != null && caughtUp.getCount() == 0) {
                    awaitStoreWriter();
                    Optional<List<Collection<Chunk>>> records = state.latestRecordsBetweenSteps();
                    if (records.isPresent()) {
                        save(consumer.position(routingPartition), records.get());
                    } else {
                        LOG.info("not writing the local routing store on close: a step is half applied; the last copy stays");
                    }
                }
            }
            consumer.close();
        }
    }

    private void startFromStore(TopicPartition routingPartition) throws InterruptedException {
        try (Admin admin = clients.admin()) {
            String topic = routingPartition.topic();
            topicId = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).topicId().toString();
            long started = System.nanoTime();
            Optional<RoutingStore.Snapshot> stored = store.load();
            long read = System.nanoTime();
            if (stored.isEmpty()) {
                return;
            }
            RoutingStore.Snapshot snapshot = stored.get();
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            long deleteRetentionMs = Long.parseLong(admin.describeConfigs(List.of(resource)).all().get().get(resource)
                .get(TopicConfig.DELETE_RETENTION_MS_CONFIG).value());
            long beginning = consumer.beginningOffsets(List.of(routingPartition)).get(routingPartition);
            long end = consumer.endOffsets(List.of(routingPartition)).get(routingPartition);
            Duration age = Duration.between(snapshot.writtenAt(), Instant.now());
            String refused = !snapshot.topic().equals(topic) ? "it is a copy of topic " + snapshot.topic()
                : !snapshot.topicId().equals(topicId) ? "topic " + topic + " was recreated since (id " + snapshot.topicId() + ", now " + topicId + ")"
                : snapshot.position() < beginning || snapshot.position() > end
                    ? "its position " + snapshot.position() + " is outside the topic's [" + beginning + ", " + end + "]"
                : age.toMillis() >= deleteRetentionMs / 2
                    ? "it is " + age + " old, not under half the topic's delete.retention.ms of " + deleteRetentionMs + " ms"
                : null;
            if (refused != null) {
                LOG.info("reading the routing from the beginning of {}, not from the local store {}: {}", topic, store.file(), refused);
                return;
            }
            long checked = System.nanoTime();
            state.applyStored(snapshot.chunks(), snapshot.position());
            long applied = System.nanoTime();
            storedChunksLoaded = snapshot.chunks().size();
            storedPosition = snapshot.position();
            storedAtNanos = System.nanoTime();
            consumer.seek(routingPartition, snapshot.position());
            LOG.info("loaded {} chunk records from the local routing store {} (position {}, {} old; read in {} ms, checked in {} ms, applied in {} ms); "
                + "reading {} from there", snapshot.chunks().size(), store.file(), snapshot.position(), age, (read - started) / 1_000_000,
                (checked - read) / 1_000_000, (applied - checked) / 1_000_000, topic);
        } catch (ExecutionException e) {
            LOG.warn("reading the routing from the beginning: the local store could not be checked against the topic: {}", e.getCause().toString());
        }
    }

    private void save(long position, List<Collection<Chunk>> records) {
        try {
            long started = System.nanoTime();
            store.save(catalog.routing().name(), topicId, position, records);
            LOG.debug("routing store written at position {} in {} ms", position, (System.nanoTime() - started) / 1_000_000);
        } catch (java.io.IOException | RuntimeException e) {
            LOG.warn("could not write the local routing store {} (the router keeps serving; a restart reads the topic): {}", store.file(), e.toString());
        }
    }

    private void awaitStoreWriter() {
        try {
            if (!storeWriter.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("the routing store writer did not finish within 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        String topic = record.topic();
        try {
            String key = record.key() == null ? null : new String(record.key(), java.nio.charset.StandardCharsets.UTF_8);
            if (key == null) {
                throw new IllegalArgumentException("record key is missing");
            }
            if (topic.equals(catalog.routing().name())) {
                routingRecordsRead++;
                if (record.value() == null) {
                    int bar = key.lastIndexOf('|');
                    if (bar < 0) {
                        throw new IllegalArgumentException("routing key '" + key + "' is not <namespace>|<chunk min hex>");
                    }
                    state.removeRoute(key.substring(0, bar), ShardKey.ofHex(key.substring(bar + 1)), record.offset());
                } else {
                    state.applyRoute(read(catalog.routing().valueSerde().deserializer(), record), record.offset());
                }
            } else if (topic.equals(catalog.shards().name())) {
                if (record.value() == null) {
                    state.removeShard(key);
                } else {
                    ShardDescriptor shard = read(catalog.shards().valueSerde().deserializer(), record);
                    if (!state.applyShard(shard)) {
                        LOG.warn("ignoring shard {} at version {} ({}@{}): a newer version is applied", shard.getShardId(), shard.getVersion(),
                            topic, record.offset());
                    }
                }
            } else if (record.value() == null) {
                state.removeConfig(key);
            } else {
                NamespaceConfig config = read(catalog.config().valueSerde().deserializer(), record);
                if (!state.applyConfig(config)) {
                    LOG.warn("ignoring the config of {} at version {} ({}@{}): a newer version is applied", config.getNamespace(),
                        config.getVersion(), topic, record.offset());
                }
            }
        } catch (RuntimeException e) {
            skippedRecords++;
            if (topic.equals(catalog.routing().name())) {
                state.skipRoutingRecord(record.offset());
            }
            LOG.error("skipping unreadable record {}-{}@{}: {}", topic, record.partition(), record.offset(), e.toString());
            deadLetters.send(record, e, null);
        }
    }

    private static <T> T read(Deserializer<T> deserializer, ConsumerRecord<byte[], byte[]> record) {
        return deserializer.deserialize(record.topic(), record.headers(), record.value());
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(TimeUnit.SECONDS.toMillis(10));
    }
}
