package io.shardline.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/** The controller's count of each dead-letter topic's records, read from the broker. */
@ShardlineCluster
class DeadLetterMetersIT {

    @Test
    void shouldCountTheRecordsEachDeadLetterTopicReceived(EmbeddedCluster cluster, TestNames names) throws Exception {
        TopicCatalog catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.fromEnvironment(cluster.bootstrapServers()).bytesProducer(Map.of())) {
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>(catalog.controlDlq().name(), ("dead " + i).getBytes(StandardCharsets.UTF_8))).get();
            }
            producer.send(new ProducerRecord<>(catalog.cdcDlq().name(), "dead".getBytes(StandardCharsets.UTF_8))).get();
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (DeadLetterMeters meters = DeadLetterMeters.start(cluster.bootstrapServers(), catalog, registry, Duration.ofMillis(200))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (count(registry, catalog.controlDlq().name()) < 3 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }

            assertThat(count(registry, catalog.controlDlq().name())).isEqualTo(3);
            assertThat(count(registry, catalog.cdcDlq().name())).isEqualTo(1);
            assertThat(count(registry, catalog.commandsDlq().name())).isZero();
        }
    }

    private static double count(SimpleMeterRegistry registry, String topic) {
        return registry.get("shardline.dlq.records").tag("topic", topic).functionCounter().count();
    }
}
