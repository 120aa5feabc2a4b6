package io.shardline.router.internal;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.KafkaClients;

/**
 * Follows every shard's CDC topics ({@code cdc.<shard>.<db>.<coll>}) from their end and drops the cached reads of
 * each namespace that changed, so a write that did not pass through this router (another router, a migration, a
 * direct write) is not hidden by the cache for longer than the CDC delay.
 */
public final class CdcInvalidator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CdcInvalidator.class);
    private static final Pattern CDC_TOPICS = Pattern.compile("cdc\\.[^.]+\\..+");

    private final ReadCache cache;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Thread thread;
    private final CountDownLatch assigned = new CountDownLatch(1);
    private volatile boolean running = true;

    public CdcInvalidator(String bootstrapServers, ReadCache cache) {
        this.cache = cache;
        this.consumer = KafkaClients.fromEnvironment(bootstrapServers).bytesReader("shardline-router-cache-" + UUID.randomUUID(),
            Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest", ConsumerConfig.METADATA_MAX_AGE_CONFIG, 2_000));
        this.thread = new Thread(this::run, "router-cache-invalidator");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Waits until the consumer has joined and holds its topics (or there were none yet to hold). */
    public boolean awaitAssigned(Duration timeout) throws InterruptedException {
        return assigned.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void run() {
        try {
            consumer.subscribe(CDC_TOPICS, new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(java.util.Collection<TopicPartition> partitions) {
                    // A new assignment may skip events; forget everything rather than serve what may be stale.
                    cache.invalidateAll();
                }

                @Override
                public void onPartitionsAssigned(java.util.Collection<TopicPartition> partitions) {
                    cache.invalidateAll();
                    assigned.countDown();
                }
            });
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    String namespace = namespaceOf(record.topic());
                    if (namespace != null) {
                        cache.invalidate(namespace);
                    }
                }
                if (assigned.getCount() > 0 && consumer.assignment().isEmpty()) {
                    assigned.countDown(); // no CDC topic exists yet; nothing can be missed
                }
            }
        } catch (WakeupException stopping) {
            LOG.debug("cache invalidator stopping");
        } finally {
            consumer.close();
        }
    }

    /** {@code cdc.<shard>.<db>.<coll>} → {@code <db>.<coll>}; {@code null} for any other topic. */
    static String namespaceOf(String topic) {
        List<String> parts = List.of(topic.split("\\.", 3));
        if (parts.size() < 3 || !parts.get(0).equals("cdc") || !parts.get(2).contains(".")) {
            return null;
        }
        return parts.get(2);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(TimeUnit.SECONDS.toMillis(10));
    }
}
