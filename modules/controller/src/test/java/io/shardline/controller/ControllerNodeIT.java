package io.shardline.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.key.KeyRange;
import io.shardline.core.routing.Chunk;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkStats;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.testing.ShardContents;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/** The controller role on the real cluster: its meters follow the shards, across a restart of the controller. */
@ShardlineCluster
class ControllerNodeIT {

    @Test
    void shouldReportEachShardsDocumentCountAndKeepItAcrossARestart(EmbeddedCluster cluster, TestNames names) throws Exception {
        TopicCatalog catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        Path state = Files.createTempDirectory("controller-state-");
        String ns = names.database() + ".users";
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog)) {
            publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(ns).setStrategy(ShardKeyStrategyType.TENANT)
                .setShardKeyFields(List.of("tenantId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
            publisher.publishRouting(ns, List.of(Chunk.active(ns, KeyRange.ALL, "s1", 1, 1)));
        }
        ControllerConfig config = new ControllerConfig(cluster.bootstrapServers(), catalog, names.applicationId("controller"),
            state, Duration.ofMillis(100), Duration.ofSeconds(1), "cdc", Duration.ofMinutes(10),
            io.shardline.topology.balancer.BalancerSettings.defaults());

        try (MongoClient s1 = MongoClients.create(cluster.shards().get("s1").connectionString())) {
            SimpleMeterRegistry first = new SimpleMeterRegistry();
            try (ControllerNode controller = ControllerNode.start(config, first, Duration.ofSeconds(60))) {
                insert(s1, names, 0, 40);
                awaitCount(first, "s1", ShardContents.documentCount(s1));
            }
            SimpleMeterRegistry second = new SimpleMeterRegistry();
            try (ControllerNode controller = ControllerNode.start(config, second, Duration.ofSeconds(60))) {
                insert(s1, names, 40, 25);
                awaitCount(second, "s1", ShardContents.documentCount(s1));
                assertThat(second.get("shard.data.volume").tag("shard", "s1").gauge().value()).isPositive();
                assertThat(awaitChunk(cluster, catalog, TopicCatalog.routingKey(ns, ""), 65).getDocumentCount())
                    .as("documents of the namespace's only chunk").isEqualTo(65);
            }
        }
    }

    @Test
    void shouldCorrectTheSizesOfAShardWhoseChangesCdcNeverSawFromItsDbStats(EmbeddedCluster cluster, TestNames names) throws Exception {
        TopicCatalog catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        try (io.shardline.shard.EmbeddedShard dark = io.shardline.shard.EmbeddedShard.start("dark");
             MongoClient client = MongoClients.create(dark.connectionString());
             ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog)) {
            List<Document> docs = new ArrayList<>();
            for (int i = 0; i < 7; i++) {
                docs.add(new Document("_id", i).append("pad", "x".repeat(100)));
            }
            client.getDatabase("app").getCollection("things").insertMany(docs);
            publisher.publishShard(io.shardline.schemas.avro.ShardDescriptor.newBuilder().setShardId("dark")
                .setConnectionString(dark.connectionString()).setCapacityBytes(1L << 20).setCapacityOpsPerSec(100)
                .setState(io.shardline.schemas.avro.ShardState.ACTIVE).setVersion(1).setUpdatedAt(java.time.Instant.now()).build());
            ControllerConfig config = ControllerConfig.defaults(cluster.bootstrapServers(), catalog, Files.createTempDirectory("controller-dbstats-"))
                .withDbStatsInterval(Duration.ofMillis(300));
            SimpleMeterRegistry registry = new SimpleMeterRegistry();

            try (ControllerNode controller = ControllerNode.start(config, registry, Duration.ofSeconds(60))) {
                awaitCount(registry, "dark", 7);
                assertThat(registry.get("shard.data.volume").tag("shard", "dark").gauge().value()).isGreaterThan(700);
            }
        }
    }

    private static ChunkStats awaitChunk(EmbeddedCluster cluster, TopicCatalog catalog, String key, long expected) {
        java.util.Map<String, Object> props = java.util.Map.of("bootstrap.servers", cluster.bootstrapServers(),
            "group.id", "chunks-" + java.util.UUID.randomUUID(), "auto.offset.reset", "earliest", "isolation.level", "read_committed");
        ChunkStats latest = null;
        try (org.apache.kafka.clients.consumer.KafkaConsumer<String, ChunkStats> consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(
            props, catalog.chunkSizes().keySerde().deserializer(), catalog.chunkSizes().valueSerde().deserializer())) {
            consumer.subscribe(List.of(catalog.chunkSizes().name()));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while ((latest == null || latest.getDocumentCount() != expected) && System.nanoTime() < deadline) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.key().equals(key)) {
                        latest = record.value();
                    }
                }
            }
        }
        assertThat(latest).as("chunk stats of %s", key).isNotNull();
        return latest;
    }

    private static void insert(MongoClient client, TestNames names, int from, int count) {
        List<Document> docs = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            docs.add(new Document("_id", "c" + i).append("tenantId", "t" + (i % 3)));
        }
        client.getDatabase(names.database()).getCollection("users").insertMany(docs);
    }


    private static void awaitCount(SimpleMeterRegistry registry, String shard, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        double seen = -1;
        while (System.nanoTime() < deadline) {
            Gauge gauge = registry.find("shard.document.count").tag("shard", shard).gauge();
            seen = gauge == null ? -1 : gauge.value();
            if (seen == expected) {
                return;
            }
            Thread.sleep(50);
        }
        assertThat(seen).as("shard_document_count of %s", shard).isEqualTo((double) expected);
    }
}
