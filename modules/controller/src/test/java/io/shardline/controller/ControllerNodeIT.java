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
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
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
        ControllerConfig config = new ControllerConfig(cluster.bootstrapServers(), catalog, names.applicationId("controller"),
            state, Duration.ofMillis(100), Duration.ofSeconds(1), "cdc");

        try (MongoClient s1 = MongoClients.create(cluster.shards().get("s1").connectionString())) {
            SimpleMeterRegistry first = new SimpleMeterRegistry();
            try (ControllerNode controller = ControllerNode.start(config, first, Duration.ofSeconds(60))) {
                insert(s1, names, 0, 40);
                awaitCount(first, "s1", documentsOn(s1));
            }
            SimpleMeterRegistry second = new SimpleMeterRegistry();
            try (ControllerNode controller = ControllerNode.start(config, second, Duration.ofSeconds(60))) {
                insert(s1, names, 40, 25);
                awaitCount(second, "s1", documentsOn(s1));
                assertThat(second.get("shard.data.volume").tag("shard", "s1").gauge().value()).isPositive();
            }
        }
    }

    private static void insert(MongoClient client, TestNames names, int from, int count) {
        List<Document> docs = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            docs.add(new Document("_id", "c" + i).append("tenantId", "t" + (i % 3)));
        }
        client.getDatabase(names.database()).getCollection("users").insertMany(docs);
    }

    private static long documentsOn(MongoClient client) {
        long count = 0;
        for (String db : client.listDatabaseNames()) {
            if (List.of("admin", "config", "local").contains(db)) {
                continue;
            }
            for (String coll : client.getDatabase(db).listCollectionNames()) {
                count += client.getDatabase(db).getCollection(coll).countDocuments();
            }
        }
        return count;
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
