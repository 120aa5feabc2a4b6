package io.shardline.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.bson.Document;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.topology.ShardSizeTopology;

/** The size topology on the real broker, reading what Debezium really writes, with exactly-once processing. */
@ShardlineCluster
class ShardSizeTopologyIT {

    @Test
    void shouldReportTheDocumentCountOfAShardAsTheShardItselfCountsIt(EmbeddedCluster cluster, TestNames names) throws Exception {
        TopicCatalog catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, names.applicationId("sizes"));
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("streams-").toString());
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.METADATA_MAX_AGE_CONFIG), 1000);

        try (MongoClient client = MongoClients.create(cluster.shards().get("s1").connectionString());
             KafkaStreams streams = new KafkaStreams(ShardSizeTopology.build(ShardSizeTopology.Config.of(catalog)), props)) {
            streams.start();
            MongoCollection<Document> users = client.getDatabase(names.database()).getCollection("users");
            List<Document> docs = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                docs.add(new Document("_id", "u" + i).append("tenantId", "t" + (i % 5)));
            }
            users.insertMany(docs);
            users.deleteMany(new Document("tenantId", "t0"));

            long truth = ShardContents.documentCount(client);
            ShardStats latest = awaitStats(cluster.bootstrapServers(), catalog, "s1", truth, Duration.ofSeconds(90));

            assertThat(latest.getDocumentCount()).isEqualTo(truth);
            assertThat(latest.getDataBytes()).isPositive();
        }
    }


    private static ShardStats awaitStats(String bootstrap, TopicCatalog catalog, String shardId, long expected, Duration timeout) {
        Map<String, Object> config = Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ConsumerConfig.GROUP_ID_CONFIG, "stats-" + UUID.randomUUID(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        ShardStats latest = null;
        try (KafkaConsumer<String, ShardStats> consumer = new KafkaConsumer<>(config,
            catalog.shardSizes().keySerde().deserializer(), catalog.shardSizes().valueSerde().deserializer())) {
            consumer.subscribe(List.of(catalog.shardSizes().name()));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline && (latest == null || latest.getDocumentCount() != expected)) {
                for (ConsumerRecord<String, ShardStats> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.key().equals(shardId)) {
                        latest = record.value();
                    }
                }
            }
        }
        assertThat(latest).as("stats of %s", shardId).isNotNull();
        return latest;
    }
}
