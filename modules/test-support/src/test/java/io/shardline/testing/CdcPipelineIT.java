package io.shardline.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import org.bson.BsonString;
import org.bson.Document;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.TopicCatalog;
import io.shardline.shard.EmbeddedShard;

/**
 * Real shards, real Debezium on real Kafka Connect, real broker: every change of two shards reaches its CDC topic
 * once, in order per document, with the right key and post-image, also across a Connect worker restart.
 */
@ShardlineCluster
class CdcPipelineIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    private static MongoCollection<Document> users(EmbeddedShard shard, MongoClient client, TestNames names) {
        return client.getDatabase(names.database()).getCollection("users");
    }

    @Test
    void shouldDeliverEveryChangeOfEveryShardOnceAndInOrderAlsoAcrossAConnectRestart(EmbeddedCluster cluster, TestNames names) {
        EmbeddedShard s1 = cluster.shards().get("s1");
        EmbeddedShard s2 = cluster.shards().get("s2");
        String topic1 = TopicCatalog.cdcTopic("s1", names.database() + ".users");
        String topic2 = TopicCatalog.cdcTopic("s2", names.database() + ".users");
        try (MongoClient c1 = MongoClients.create(s1.connectionString()); MongoClient c2 = MongoClients.create(s2.connectionString())) {
            MongoCollection<Document> u1 = users(s1, c1, names);
            MongoCollection<Document> u2 = users(s2, c2, names);

            u1.insertOne(new Document("_id", "ann").append("tenantId", "acme").append("name", "Ann"));
            u1.updateOne(Filters.eq("_id", "ann"), Updates.set("name", "Anna"));
            u1.replaceOne(Filters.eq("_id", "ann"), new Document("tenantId", "acme").append("name", "Anna B").append("plan", "pro"));
            u1.insertOne(new Document("_id", "bob").append("tenantId", "acme").append("name", "Bob"));
            u1.deleteOne(Filters.eq("_id", "ann"));
            u2.insertOne(new Document("_id", "cy").append("tenantId", "globex").append("logins", 0));
            u2.updateOne(Filters.eq("_id", "cy"), Updates.inc("logins", 1));
            u2.updateOne(Filters.eq("_id", "cy"), Updates.inc("logins", 1));

            List<CdcTopics.Change> first1 = CdcTopics.readUntil(cluster.bootstrapServers(), topic1, c -> c.size() >= 5, WAIT);
            List<CdcTopics.Change> first2 = CdcTopics.readUntil(cluster.bootstrapServers(), topic2, c -> c.size() >= 3, WAIT);

            assertThat(first1).extracting(c -> c.id().asString().getValue() + ":" + c.op())
                .containsExactly("ann:c", "ann:u", "ann:u", "bob:c", "ann:d");
            assertThat(first1.get(1).after()).isEqualTo(org.bson.BsonDocument.parse("{_id: 'ann', tenantId: 'acme', name: 'Anna'}"));
            assertThat(first1.get(2).after()).isEqualTo(org.bson.BsonDocument.parse("{_id: 'ann', tenantId: 'acme', name: 'Anna B', plan: 'pro'}"));
            assertThat(first1.get(4).after()).isNull();
            assertThat(first2).extracting(c -> c.after().getInt32("logins").getValue()).containsExactly(0, 1, 2);
            assertThat(first2).allSatisfy(c -> assertThat(c.id()).isEqualTo(new BsonString("cy")));

            cluster.restartConnect();
            u1.updateOne(Filters.eq("_id", "bob"), Updates.set("name", "Robert"));
            u2.deleteOne(Filters.eq("_id", "cy"));
            u2.insertOne(new Document("_id", "dee").append("tenantId", "globex"));

            List<CdcTopics.Change> all1 = CdcTopics.readUntil(cluster.bootstrapServers(), topic1, c -> c.size() >= 6, WAIT);
            List<CdcTopics.Change> all2 = CdcTopics.readUntil(cluster.bootstrapServers(), topic2, c -> c.size() >= 5, WAIT);

            assertThat(all1).extracting(c -> c.id().asString().getValue() + ":" + c.op())
                .containsExactly("ann:c", "ann:u", "ann:u", "bob:c", "ann:d", "bob:u");
            assertThat(all1.get(5).after().getString("name").getValue()).isEqualTo("Robert");
            assertThat(all2).extracting(c -> c.id().asString().getValue() + ":" + c.op())
                .containsExactly("cy:c", "cy:u", "cy:u", "cy:d", "dee:c");
        }
    }

    @Test
    void shouldNotStreamShardlinesOwnDatabase(EmbeddedCluster cluster, TestNames names) throws Exception {
        EmbeddedShard s1 = cluster.shards().get("s1");
        String internal = "probe_" + names.database();
        String userTopic = TopicCatalog.cdcTopic("s1", names.database() + ".users");
        try (MongoClient client = MongoClients.create(s1.connectionString())) {
            client.getDatabase("shardline").getCollection(internal).insertOne(new Document("_id", "r1").append("ns", "auth.users"));
            users(s1, client, names).insertOne(new Document("_id", "after").append("tenantId", "acme"));

            // The user's change, written after the internal one, has arrived: the internal one would have too.
            assertThat(CdcTopics.readUntil(cluster.bootstrapServers(), userTopic, c -> !c.isEmpty(), WAIT)).isNotEmpty();
        }
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
            java.util.Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            assertThat(admin.listTopics().names().get()).as("no CDC topic of the shardline database")
                .doesNotContain(TopicCatalog.cdcTopic("s1", "shardline." + internal));
        }
    }
}
