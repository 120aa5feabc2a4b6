package io.shardline.controlplane.alerts;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.MeterRegistry;
import io.shardline.controlplane.TopicTail;
import io.shardline.schemas.DeadLetterProducer;
import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.Alert;
import io.shardline.schemas.avro.ShardEvent;

/**
 * Tails the events topic and turns events into alerts by the {@link AlertRules}: each alert raised or resolved is
 * written to the alerts topic (keyed by its fingerprint) and, with a webhook, posted to Alertmanager.
 *
 * <p>Alerters share a consumer group on the single-partition events topic, so one of them works at a time. The one
 * that gets the partition first reads the alerts topic from its beginning to know what fires, then reads the events
 * from the group's committed offset (from the beginning of the events topic the first time): a restarted alerter
 * neither raises again what fires nor forgets what to resolve, and an event it reads again writes nothing twice. A
 * firing alert is written again, unchanged, once half the alerts topic's retention has passed since it was last
 * written, so the topic always holds it. An event that cannot be read, or lacks a field its alert needs, goes to the
 * control DLQ with its origin and the field at fault; the events after it are read on. An alert that cannot be written
 * is tried again from its event after a back-off, and nothing after it is read meanwhile.
 */
public final class Alerter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Alerter.class);
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /**
     * What the alerter needs.
     *
     * @param groupId the consumer group alerters of one cluster share
     * @param webhook Alertmanager delivery, or {@code null} for the alerts topic alone
     */
    public record Settings(String bootstrapServers, TopicCatalog catalog, String groupId, AlertRules rules,
                           AlertmanagerWebhook.Settings webhook) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(catalog, "catalog");
            Objects.requireNonNull(groupId, "groupId");
            Objects.requireNonNull(rules, "rules");
        }

        /** Shardline's rules, the group {@code <prefix>alerter}, no webhook. */
        public static Settings defaults(String bootstrapServers, TopicCatalog catalog) {
            return new Settings(bootstrapServers, catalog, catalog.prefix() + "alerter", AlertRules.DEFAULT, null);
        }

        public Settings withWebhook(AlertmanagerWebhook.Settings delivery) {
            return new Settings(bootstrapServers, catalog, groupId, rules, delivery);
        }
    }

    private final Settings settings;
    private final TopicPartition events;
    private final FiringAlerts firing = new FiringAlerts();
    private final AlerterMeters meters;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final KafkaProducer<byte[], byte[]> producer;
    private final DeadLetterProducer deadLetters;
    private final AlertmanagerWebhook webhook;
    private final String reporter;
    private final Thread thread;
    private volatile boolean running = true;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    /** The events partition is assigned and the alerts topic read: events may be turned into alerts. */
    private volatile boolean active;
    private boolean assigned;
    private Duration backoff = FIRST_BACKOFF;

    private Alerter(Settings settings, MeterRegistry registry) {
        this.settings = settings;
        this.events = new TopicPartition(settings.catalog().events().name(), 0);
        this.reporter = "alerter:" + settings.groupId();
        this.meters = new AlerterMeters(registry, settings.rules(), name -> active ? firing.count(name) : 0);
        KafkaClients clients = KafkaClients.fromEnvironment(settings.bootstrapServers());
        this.consumer = clients.bytesReader(settings.groupId(), Map.of(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            // It follows the events, never reads to an end: the broker's default wait saves fetches.
            ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 500,
            // An alerter that died is replaced within seconds, not the default 45 s.
            ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000, ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 2_000));
        this.producer = clients.bytesProducer(Map.of(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
            ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000));
        this.deadLetters = new DeadLetterProducer(settings.bootstrapServers(), settings.catalog().controlDlq().name(), reporter);
        this.webhook = settings.webhook() == null ? null : new AlertmanagerWebhook(settings.webhook(), meters, this::firingNow);
        this.thread = new Thread(this::run, "alerter");
        this.thread.setDaemon(true);
    }

    /** Starts tailing the events; it begins to alert once it holds the events partition. */
    public static Alerter start(Settings settings, MeterRegistry registry) {
        Alerter alerter = new Alerter(settings, registry);
        alerter.consumer.subscribe(List.of(alerter.events.topic()), alerter.new Assignment());
        alerter.thread.start();
        return alerter;
    }

    /** Whether this alerter holds the events partition and knows what fires. */
    public boolean active() {
        return active;
    }

    /** The alerts firing, as this alerter knows them (none while another alerter holds the events). */
    public List<Alert> firingNow() {
        return active ? firing.all() : List.of();
    }

    private void run() {
        try {
            while (running) {
                try {
                    round();
                } catch (WakeupException stopping) {
                    throw stopping;
                } catch (RuntimeException failed) {
                    LOG.error("the alerter's round failed; trying again in {} ms", backoff.toMillis(), failed);
                    pause();
                }
            }
        } catch (WakeupException stopping) {
            LOG.debug("alerter stopping");
        } finally {
            active = false;
            consumer.close();
        }
    }

    private void round() {
        if (assigned && !active) {
            loadFiring();
        }
        List<ConsumerRecord<byte[], byte[]>> records = consumer.poll(POLL).records(events);
        if (!active) {
            if (assigned && !records.isEmpty()) {
                consumer.seek(events, records.get(0).offset());
            }
            return;
        }
        handle(records);
        housekeeping();
    }

    /** Turns each event into alerts, in order; commits the offset after the last event fully handled. */
    private void handle(List<ConsumerRecord<byte[], byte[]>> records) {
        long next = -1;
        for (ConsumerRecord<byte[], byte[]> record : records) {
            try {
                alert(record);
            } catch (RuntimeException failed) {
                LOG.warn("alerts of {}@{} could not be written ({}); trying again from there in {} ms", events, record.offset(),
                    failed.toString(), backoff.toMillis());
                consumer.seek(events, record.offset());
                pause();
                break;
            }
            next = record.offset() + 1;
            backoff = FIRST_BACKOFF;
        }
        if (next >= 0) {
            commit(next);
        }
    }

    private void alert(ConsumerRecord<byte[], byte[]> record) {
        if (record.value() == null) {
            return;
        }
        ShardEvent event;
        try {
            event = settings.catalog().events().valueSerde().deserializer().deserialize(record.topic(), record.value());
        } catch (RuntimeException unreadable) {
            deadLetter(record, unreadable, "value");
            return;
        }
        List<Alert> alerts;
        try {
            alerts = settings.rules().apply(event, firing);
        } catch (RuntimeException unusable) {
            deadLetter(record, unusable, unusable instanceof UnusableEvent missing ? missing.field() : null);
            return;
        }
        for (Alert alert : alerts) {
            if (!firing.written(alert)) {
                write(alert);
                meters.written(alert);
                if (webhook != null) {
                    webhook.offer(alert);
                }
                LOG.info("alert {} {} {}: {}", alert.getAlertname(), alert.getStatus(), alert.getLabels(), alert.getAnnotations().get("summary"));
            }
        }
    }

    /** Alerts resolved by time, and firing alerts written again before the topic's retention deletes them. */
    private void housekeeping() {
        Instant now = Instant.now();
        try {
            for (Alert expired : settings.rules().expired(firing, now)) {
                write(expired);
                meters.written(expired);
                if (webhook != null) {
                    webhook.offer(expired);
                }
                LOG.info("alert {} {} resolved: {}", expired.getAlertname(), expired.getLabels(), expired.getAnnotations().get("resolution"));
            }
            for (Alert old : firing.writtenBefore(now.minus(settings.catalog().alerts().retention().dividedBy(2)))) {
                write(old);
            }
        } catch (RuntimeException failed) {
            LOG.warn("the alerter's own alerts could not be written ({}); trying again in {} ms", failed.toString(), backoff.toMillis());
            pause();
        }
    }

    /** Writes an alert to the alerts topic and waits for the broker, then records it. */
    private void write(Alert alert) {
        byte[] value = settings.catalog().alerts().valueSerde().serializer().serialize(settings.catalog().alerts().name(), alert);
        byte[] key = alert.getFingerprint().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try {
            producer.send(new ProducerRecord<>(settings.catalog().alerts().name(), key, value)).get(40, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("writing to " + settings.catalog().alerts().name() + " failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("writing to " + settings.catalog().alerts().name() + " was not acknowledged in 40 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing to " + settings.catalog().alerts().name(), e);
        }
        firing.record(alert, Instant.now());
    }

    private void deadLetter(ConsumerRecord<byte[], byte[]> record, RuntimeException error, String field) {
        LOG.warn("skipping event {}@{} (sent to {}): {}: {}", events, record.offset(), deadLetters.topic(), field, error.getMessage());
        deadLetters.send(record, error, field);
    }

    /** Reads the alerts topic from its beginning into what fires; on failure, waits and leaves it for the next round. */
    private void loadFiring() {
        firing.clear();
        try (TopicTail<Alert> alerts = new TopicTail<>(settings.bootstrapServers(), settings.catalog().alerts(), true,
            settings.catalog().controlDlq().name(), reporter)) {
            for (TopicTail.Appended<Alert> appended : alerts.readToEnd()) {
                firing.record(appended.value(), appended.timestamp());
            }
        } catch (RuntimeException failed) {
            firing.clear();
            LOG.warn("the alerter cannot read {} to know what fires ({}); trying again in {} ms", settings.catalog().alerts().name(),
                failed.toString(), backoff.toMillis());
            pause();
            return;
        }
        active = true;
        backoff = FIRST_BACKOFF;
        consumer.resume(List.of(events));
        LOG.info("alerter holds {}: {} alerts fire", events, firing.all().size());
    }

    private void commit(long next) {
        try {
            consumer.commitSync(Map.of(events, new OffsetAndMetadata(next)));
        } catch (KafkaException notCommitted) {
            // The events after the last commit are read again by whoever holds the partition next; what they raised is
            // on the alerts topic already, so they write nothing twice.
            LOG.info("the alerter's offset {} was not committed: {}", next, notCommitted.toString());
        }
    }

    /** Waits out the back-off (less when the alerter stops meanwhile), then doubles it. */
    private void pause() {
        long until = System.nanoTime() + backoff.toNanos();
        try {
            while (running && System.nanoTime() < until) {
                Thread.sleep(Math.min(100, Math.max(1, (until - System.nanoTime()) / 1_000_000)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
    }

    /** Holding the events partition: read what fires first (its records wait, paused, meanwhile); losing it: forget. */
    private final class Assignment implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (partitions.contains(events)) {
                consumer.pause(List.of(events));
                assigned = true;
                active = false;
            }
        }

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            lost(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            lost(partitions);
        }

        private void lost(Collection<TopicPartition> partitions) {
            if (partitions.contains(events)) {
                assigned = false;
                active = false;
                firing.clear();
                LOG.info("alerter no longer holds {}", events);
            }
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        running = false;
        consumer.wakeup();
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (webhook != null) {
                webhook.close();
            }
        } finally {
            producer.close();
            deadLetters.close();
        }
    }
}
