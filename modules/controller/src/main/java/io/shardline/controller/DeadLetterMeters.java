package io.shardline.controller;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.TopicCatalog;

/**
 * {@code shardline_dlq_records_total{topic}}: how many records each dead-letter topic (commands, CDC, control) has
 * received, its end offset read every interval. A count that grows is input some reader could not use. A topic whose
 * end cannot be read keeps its last count (and the failure is logged once until it can be read again).
 */
public final class DeadLetterMeters implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterMeters.class);

    /** Reads the end offset of each topic's only partition; a topic missing from the answer could not be read. */
    @FunctionalInterface
    public interface EndOffsets {
        Map<String, Long> read(List<String> topics);
    }

    private final List<String> topics;
    private final EndOffsets endOffsets;
    private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();
    private final Map<String, Boolean> unreadable = new ConcurrentHashMap<>();
    private final ScheduledExecutorService scheduler;
    private final Admin admin;

    /** Counts read by {@link #refresh()} only. */
    public DeadLetterMeters(MeterRegistry registry, List<String> topics, EndOffsets endOffsets) {
        this(registry, topics, endOffsets, null, null);
    }

    private DeadLetterMeters(MeterRegistry registry, List<String> topics, EndOffsets endOffsets, Admin admin, ScheduledExecutorService scheduler) {
        this.topics = List.copyOf(topics);
        this.endOffsets = endOffsets;
        this.admin = admin;
        this.scheduler = scheduler;
        for (String topic : this.topics) {
            AtomicLong count = new AtomicLong();
            counts.put(topic, count);
            FunctionCounter.builder("shardline.dlq.records", count, AtomicLong::get).tag("topic", topic)
                .description("Records a dead-letter topic has received (its end offset)").register(registry);
        }
    }

    /** The dead-letter topics of the catalog, read through an admin client every {@code every}. */
    public static DeadLetterMeters start(String bootstrapServers, TopicCatalog catalog, MeterRegistry registry, Duration every) {
        Admin admin = KafkaClients.fromEnvironment(bootstrapServers).admin();
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "controller-dlq-meters");
            thread.setDaemon(true);
            return thread;
        });
        DeadLetterMeters meters = new DeadLetterMeters(registry, List.of(catalog.commandsDlq().name(), catalog.cdcDlq().name(),
            catalog.controlDlq().name()), topics -> endOffsets(admin, topics), admin, scheduler);
        scheduler.scheduleWithFixedDelay(meters::refresh, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return meters;
    }

    /** Reads every topic's end offset into its count. */
    public void refresh() {
        Map<String, Long> ends;
        try {
            ends = endOffsets.read(topics);
        } catch (RuntimeException failed) {
            ends = Map.of();
            LOG.debug("reading the ends of the dead-letter topics failed: {}", failed.toString());
        }
        for (String topic : topics) {
            Long end = ends.get(topic);
            if (end != null) {
                counts.get(topic).set(end);
                if (unreadable.remove(topic) != null) {
                    LOG.info("the end of {} can be read again", topic);
                }
            } else if (unreadable.put(topic, Boolean.TRUE) == null) {
                LOG.warn("the end of {} cannot be read; shardline_dlq_records keeps its last count until it can", topic);
            }
        }
    }

    private static Map<String, Long> endOffsets(Admin admin, List<String> topics) {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        topics.forEach(topic -> latest.put(new TopicPartition(topic, 0), OffsetSpec.latest()));
        ListOffsetsResult result = admin.listOffsets(latest);
        Map<String, Long> ends = new HashMap<>();
        for (TopicPartition partition : latest.keySet()) {
            try {
                ends.put(partition.topic(), result.partitionResult(partition).get(10, TimeUnit.SECONDS).offset());
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException failed) {
                LOG.debug("the end of {} cannot be read: {}", partition, failed.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return ends;
            }
        }
        return ends;
    }

    @Override
    public void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            try {
                scheduler.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
    }
}
