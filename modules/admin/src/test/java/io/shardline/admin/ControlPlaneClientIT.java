package io.shardline.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.controlplane.TopicTable;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.DeadLetterHeaders;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;
import io.shardline.testing.ShardlineClusterExtension;
import io.shardline.testing.TestNames;

/**
 * The operator's tables on the real broker: a shard descriptor older than the one read before it does not replace it,
 * and a record nobody can read is skipped and reaches the control DLQ with its origin and the reader named.
 */
@ExtendWith(ShardlineClusterExtension.class)
class ControlPlaneClientIT {

    private EmbeddedCluster cluster;
    private TopicCatalog catalog;

    @BeforeEach
    void setUp(EmbeddedCluster cluster, TestNames names) throws Exception {
        this.cluster = cluster;
        this.catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog);
             KafkaProducer<byte[], byte[]> raw = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()),
                 new ByteArraySerializer(), new ByteArraySerializer())) {
            publisher.publishShard(shard(2, ShardState.DRAINING));
            raw.send(new ProducerRecord<>(catalog.shards().name(), "s9".getBytes(StandardCharsets.UTF_8), "not avro".getBytes(StandardCharsets.UTF_8))).get();
            publisher.publishShard(shard(1, ShardState.ACTIVE));
        }
    }

    @Test
    void shouldKeepTheNewestShardAndDeadLetterWhatItCannotRead() throws Exception {
        try (ControlPlaneClient client = new ControlPlaneClient(cluster.bootstrapServers(), catalog, "admin")) {
            Map<String, ShardDescriptor> shards = client.shards();

            assertThat(shards.get("s1").getVersion()).as("version 1 was written after version 2").isEqualTo(2L);
            assertThat(shards.get("s1").getState()).isEqualTo(ShardState.DRAINING);
            assertThat(shards).doesNotContainKey("s9");
        }
        List<ConsumerRecord<byte[], byte[]>> letters = deadLetters(1);
        assertThat(header(letters.get(0), DeadLetterHeaders.SOURCE_TOPIC)).isEqualTo(catalog.shards().name());
        assertThat(header(letters.get(0), DeadLetterHeaders.SOURCE_OFFSET)).isEqualTo("1");
        assertThat(header(letters.get(0), DeadLetterHeaders.REPORTER)).isEqualTo("admin");
        assertThat(header(letters.get(0), DeadLetterHeaders.FIELD)).isEqualTo("value");
        assertThat(new String(letters.get(0).value(), StandardCharsets.UTF_8)).isEqualTo("not avro");
    }

    @Test
    void shouldLetTheLastRecordWinInATableThatKeepsNoVersions() {
        try (TopicTable<ShardDescriptor> table = new TopicTable<>(cluster.bootstrapServers(), catalog.shards(), catalog.controlDlq().name(), "test")) {
            assertThat(table.refresh().get("s1").getVersion()).isEqualTo(1L);
            assertThat(table.unreadable()).isEqualTo(1);
        }
    }

    private List<ConsumerRecord<byte[], byte[]>> deadLetters(int expected) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
            ConsumerConfig.GROUP_ID_CONFIG, "dlq-reader-" + System.nanoTime()), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition partition = new TopicPartition(catalog.controlDlq().name(), 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            List<ConsumerRecord<byte[], byte[]>> letters = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (letters.size() < expected && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(letters::add);
            }
            return letters;
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        return new String(record.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
    }

    private static ShardDescriptor shard(long version, ShardState state) {
        return ShardDescriptor.newBuilder().setShardId("s1").setConnectionString("mongodb://s1/").setCapacityBytes(1L << 30)
            .setCapacityOpsPerSec(10_000).setState(state).setVersion(version).setUpdatedAt(Instant.now()).build();
    }
}
