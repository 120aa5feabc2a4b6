package io.shardline.controlplane.alerts;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.controlplane.TopicTail;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.DeadLetterHeaders;
import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.Alert;
import io.shardline.schemas.avro.AlertStatus;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * The alerter on a real broker and registry: events published on the events topic become alerts on the alerts topic
 * and at a stand-in Alertmanager (which fails twice first); a restarted alerter neither raises again what fires nor
 * forgets what to resolve, and writes nothing twice for events it reads again; of two alerters one works at a time;
 * events it cannot use go to the control DLQ with their origin and the field at fault.
 */
@ShardlineCluster
class AlerterIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    private static final class Fixture implements AutoCloseable {
        final EmbeddedCluster cluster;
        final TopicCatalog catalog;
        final ControlPlanePublisher publisher;
        final TestAlertmanager alertmanager;

        Fixture(EmbeddedCluster cluster, TestNames names, Integer... failures) throws Exception {
            this.cluster = cluster;
            this.catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
            ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
            this.publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog);
            this.alertmanager = new TestAlertmanager().failingWith(failures);
        }

        Alerter.Settings settings() {
            return Alerter.Settings.defaults(cluster.bootstrapServers(), catalog).withWebhook(AlertmanagerWebhook.Settings
                .forAlertmanager(alertmanager.baseUrl()).withRetries(5, Duration.ofMillis(100), Duration.ofMillis(400)));
        }

        Alerter start(SimpleMeterRegistry meters) throws InterruptedException {
            Alerter alerter = Alerter.start(settings(), meters);
            await(alerter::active, "the alerter holds the events");
            return alerter;
        }

        ShardEvent publish(String eventId, ShardEventType type, String shardId) {
            ShardEvent event = ShardEvent.newBuilder().setEventId(eventId).setType(type).setTimestamp(Instant.now()).setSource("worker:it")
                .setShardId(shardId).setReason(type + " of " + shardId + " (" + eventId + ")").build();
            publisher.publishEvent(event);
            return event;
        }

        /** The alerts topic from its beginning, once it holds {@code count} alerts. */
        List<TopicTail.Appended<Alert>> alerts(int count) throws InterruptedException {
            List<TopicTail.Appended<Alert>> alerts = new ArrayList<>();
            try (TopicTail<Alert> tail = new TopicTail<>(cluster.bootstrapServers(), catalog.alerts(), true, catalog.controlDlq().name(), "it")) {
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (alerts.size() < count && System.nanoTime() < deadline) {
                    alerts.addAll(tail.poll(Duration.ofMillis(200)));
                }
                alerts.addAll(tail.poll(Duration.ofMillis(500)));
            }
            return alerts;
        }

        @Override
        public void close() {
            alertmanager.close();
            publisher.close();
        }
    }

    @Test
    void shouldPostAShardDownAlertToAWebhookThatFailsTwiceAndItsResolutionAndWriteBothToTheAlertsTopic(EmbeddedCluster cluster, TestNames names)
        throws Exception {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (Fixture fixture = new Fixture(cluster, names, 503, 503); Alerter alerter = fixture.start(meters)) {
            ShardEvent down = fixture.publish("e1", ShardEventType.SHARD_DOWN, "s1");

            JsonNode posted = fixture.alertmanager.await(TestAlertmanager.alert("ShardDown", "shard", "s1", false), WAIT);
            assertThat(posted.get("labels")).hasSize(3);
            assertThat(posted.path("labels").path("severity").asText()).isEqualTo("critical");
            assertThat(posted.path("annotations").path("summary").asText()).isEqualTo("shard s1 does not answer");
            assertThat(posted.path("annotations").path("description").asText()).isEqualTo("SHARD_DOWN of s1 (e1)");
            assertThat(Instant.parse(posted.path("startsAt").asText())).isEqualTo(down.getTimestamp());
            assertThat(fixture.alertmanager.posts()).extracting(TestAlertmanager.Post::answered).startsWith(503, 503, 200);
            assertThat(meters.get("shardline.alert.webhook.failures").tag("cause", "http_503").counter().count()).isEqualTo(2);
            assertThat(alerter.firingNow()).extracting(Alert::getAlertname).containsExactly("ShardDown");
            assertThat(meters.get("shardline.alerts.firing").tag("alertname", "ShardDown").gauge().value()).isEqualTo(1);

            ShardEvent up = fixture.publish("e2", ShardEventType.SHARD_UP, "s1");
            JsonNode resolved = fixture.alertmanager.await(TestAlertmanager.alert("ShardDown", "shard", "s1", true), WAIT);
            assertThat(Instant.parse(resolved.path("endsAt").asText())).isEqualTo(up.getTimestamp());
            assertThat(Instant.parse(resolved.path("startsAt").asText())).isEqualTo(down.getTimestamp());

            List<TopicTail.Appended<Alert>> written = fixture.alerts(2);
            assertThat(written).extracting(a -> a.value().getStatus()).containsExactly(AlertStatus.FIRING, AlertStatus.RESOLVED);
            assertThat(written).extracting(a -> a.value().getEventId()).containsExactly("e1", "e2");
            assertThat(written).extracting(TopicTail.Appended::key).containsOnly(written.get(0).value().getFingerprint());
            assertThat(written.get(1).value().getEndsAt()).isEqualTo(up.getTimestamp());
            assertThat(meters.get("shardline.alerts").tag("alertname", "ShardDown").tag("status", "resolved").counter().count()).isEqualTo(1);
        }
    }

    @Test
    void shouldNeitherRaiseAgainWhatFiresNorForgetWhatToResolveWhenRestarted(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (Fixture fixture = new Fixture(cluster, names)) {
            ShardEvent down;
            try (Alerter first = fixture.start(new SimpleMeterRegistry())) {
                down = fixture.publish("e1", ShardEventType.SHARD_DOWN, "s1");
                fixture.alertmanager.await(TestAlertmanager.alert("ShardDown", "shard", "s1", false), WAIT);
            }
            fixture.publish("e2", ShardEventType.SHARD_DOWN, "s1");
            try (Alerter restarted = fixture.start(new SimpleMeterRegistry())) {
                assertThat(restarted.firingNow()).as("what fires, read from the alerts topic").extracting(Alert::getEventId).containsExactly("e1");
                fixture.publish("e3", ShardEventType.SHARD_UP, "s1");
                fixture.alertmanager.await(TestAlertmanager.alert("ShardDown", "shard", "s1", true), WAIT);
            }

            List<TopicTail.Appended<Alert>> written = fixture.alerts(2);
            assertThat(written).extracting(a -> a.value().getEventId() + " " + a.value().getStatus()).containsExactly("e1 FIRING", "e3 RESOLVED");
            assertThat(written.get(1).value().getStartsAt()).as("the resolution of the alert raised before the restart")
                .isEqualTo(down.getTimestamp());
            assertThat(fixture.alertmanager.accepted()).filteredOn(alert -> !alert.has("endsAt"))
                .extracting(alert -> alert.path("startsAt").asText()).containsOnly(down.getTimestamp().toString());
        }
    }

    @Test
    void shouldWriteNothingTwiceForEventsReadAgain(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (Fixture fixture = new Fixture(cluster, names)) {
            try (Alerter first = fixture.start(new SimpleMeterRegistry())) {
                fixture.publish("e1", ShardEventType.SHARD_DOWN, "s1");
                fixture.publish("e2", ShardEventType.SHARD_UP, "s1");
                fixture.alerts(2);
            }
            // As after a crash before the offset was committed: the events are read again from the start.
            try (Admin admin = KafkaClients.fromEnvironment(cluster.bootstrapServers()).admin()) {
                admin.alterConsumerGroupOffsets(fixture.settings().groupId(),
                    Map.of(new TopicPartition(fixture.catalog.events().name(), 0), new OffsetAndMetadata(0))).all().get();
            }
            try (Alerter restarted = fixture.start(new SimpleMeterRegistry())) {
                fixture.publish("e3", ShardEventType.BACKUP_STALE, "s2");
                List<TopicTail.Appended<Alert>> written = fixture.alerts(3);

                assertThat(written).extracting(a -> a.value().getEventId() + " " + a.value().getAlertname() + " " + a.value().getStatus())
                    .containsExactly("e1 ShardDown FIRING", "e2 ShardDown RESOLVED", "e3 BackupStale FIRING");
            }
        }
    }

    @Test
    void shouldLetOneAlerterOfTheGroupWorkAtATimeAndHandOverWhenItStops(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (Fixture fixture = new Fixture(cluster, names)) {
            Alerter one = Alerter.start(fixture.settings(), new SimpleMeterRegistry());
            Alerter two = Alerter.start(fixture.settings(), new SimpleMeterRegistry());
            try {
                await(() -> one.active() || two.active(), "an alerter holds the events");
                Thread.sleep(2_000);
                assertThat(one.active() && two.active()).as("both at once").isFalse();
                fixture.publish("e1", ShardEventType.SHARD_DOWN, "s1");
                fixture.alerts(1);
                Alerter working = one.active() ? one : two;
                Alerter standing = working == one ? two : one;

                working.close();
                await(standing::active, "the other alerter takes over");
                assertThat(standing.firingNow()).extracting(Alert::getEventId).containsExactly("e1");
                fixture.publish("e2", ShardEventType.SHARD_UP, "s1");

                assertThat(fixture.alerts(2)).extracting(a -> a.value().getEventId() + " " + a.value().getStatus())
                    .containsExactly("e1 FIRING", "e2 RESOLVED");
            } finally {
                one.close();
                two.close();
            }
        }
    }

    @Test
    void shouldSendEventsItCannotUseToTheControlDlqWithTheirOriginAndGoOn(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (Fixture fixture = new Fixture(cluster, names); Alerter alerter = fixture.start(new SimpleMeterRegistry())) {
            try (KafkaProducer<byte[], byte[]> raw = KafkaClients.fromEnvironment(cluster.bootstrapServers()).bytesProducer(Map.of())) {
                raw.send(new ProducerRecord<>(fixture.catalog.events().name(), "s1".getBytes(StandardCharsets.UTF_8),
                    "not an event".getBytes(StandardCharsets.UTF_8))).get();
            }
            fixture.publish("no-shard", ShardEventType.SHARD_DOWN, null);
            fixture.publish("e3", ShardEventType.SHARD_DOWN, "s2");

            assertThat(fixture.alerts(1)).extracting(a -> a.value().getEventId()).containsExactly("e3");
            List<ConsumerRecord<byte[], byte[]>> dead = deadLetters(cluster, fixture.catalog, 2);
            assertThat(dead).extracting(record -> header(record, DeadLetterHeaders.SOURCE_TOPIC)).containsOnly(fixture.catalog.events().name());
            assertThat(dead).extracting(record -> header(record, DeadLetterHeaders.SOURCE_OFFSET)).containsExactly("0", "1");
            assertThat(dead).extracting(record -> header(record, DeadLetterHeaders.FIELD)).containsExactly("value", "shardId");
            assertThat(dead).extracting(record -> header(record, DeadLetterHeaders.REPORTER))
                .containsOnly("alerter:" + fixture.settings().groupId());
            assertThat(header(dead.get(1), DeadLetterHeaders.EXCEPTION_MESSAGE)).contains("no-shard", "shardId is missing");
            assertThat(new String(dead.get(0).value(), StandardCharsets.UTF_8)).isEqualTo("not an event");
        }
    }

    private static List<ConsumerRecord<byte[], byte[]>> deadLetters(EmbeddedCluster cluster, TopicCatalog catalog, int count) {
        TopicPartition dlq = new TopicPartition(catalog.controlDlq().name(), 0);
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = KafkaClients.fromEnvironment(cluster.bootstrapServers())
            .bytesReader("it-" + UUID.randomUUID(), Map.of())) {
            consumer.assign(List.of(dlq));
            consumer.seekToBeginning(List.of(dlq));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (records.size() < count && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        return record.headers().lastHeader(name) == null ? null : new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not within " + WAIT);
            }
            Thread.sleep(50);
        }
    }
}
