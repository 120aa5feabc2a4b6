package io.shardline.router.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.KafkaClients;
import io.shardline.core.key.ShardKey;
import io.shardline.schemas.DeadLetterProducer;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;

/**
 * Feeds a {@link RoutingState} from the compacted shards, config and routing topics: reads them from the beginning,
 * then follows them, so a routing change is applied without restart. A record that cannot be read goes to the
 * control dead-letter topic with its origin and is skipped; it never stops the router.
 */
public final class RoutingStateConsumer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RoutingStateConsumer.class);

    private final RoutingState state;
    private final TopicCatalog catalog;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final DeadLetterProducer deadLetters;
    private final Thread thread;
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private volatile boolean running = true;
    private long skippedRecords;

    public RoutingStateConsumer(String bootstrapServers, TopicCatalog catalog, RoutingState state, DeadLetterProducer deadLetters) {
        this.state = state;
        this.catalog = catalog;
        this.deadLetters = deadLetters;
        this.consumer = KafkaClients.fromEnvironment(bootstrapServers).bytesReader(null, Map.of(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50));
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

    private void run() {
        try {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : List.of(catalog.shards().name(), catalog.config().name(), catalog.routing().name())) {
                consumer.partitionsFor(topic, Duration.ofSeconds(30))
                    .forEach(info -> partitions.add(new TopicPartition(info.topic(), info.partition())));
            }
            TopicPartition routingPartition = new TopicPartition(catalog.routing().name(), 0);
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    apply(record);
                }
                state.appliedUpTo(consumer.position(routingPartition));
                if (caughtUp.getCount() > 0 && end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                    caughtUp.countDown();
                }
            }
        } catch (WakeupException stopping) {
            LOG.debug("routing state consumer stopping");
        } finally {
            consumer.close();
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
