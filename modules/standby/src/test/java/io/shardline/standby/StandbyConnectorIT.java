package io.shardline.standby;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.bson.Document;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.CdcTopics;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * The standby sink on the real Kafka Connect, next to the Debezium source of a shard: deployed through Connect's
 * REST API with {@link StandbySinkConnector#config}, it brings a fresh embedded shard to exactly the shard's documents,
 * those written before it started and after, and its progress to the end of each of the shard's CDC topics.
 */
@ShardlineCluster
class StandbyConnectorIT {

    private static final Duration CONVERGENCE = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldKeepAStandbyEqualToItsShardThroughTheShardsCdcTopics(EmbeddedCluster cluster, TestNames names) throws Exception {
        String shardId = "sb" + names.database().replace("_", "");
        String connector = StandbySinkConnector.name(shardId);
        String dlq = names.topic("standby-dlq");
        var rest = cluster.connect().rest();
        EmbeddedShard primary = cluster.addShard(shardId);
        try (EmbeddedShard standbyShard = EmbeddedShard.start(shardId + "-standby");
             MongoClient shard = MongoClients.create(primary.connectionString());
             MongoClient standby = MongoClients.create(standbyShard.connectionString());
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            MongoCollection<Document> users = shard.getDatabase("app").getCollection("users");
            MongoCollection<Document> sessions = shard.getDatabase("app").getCollection("sessions");
            write(users, sessions, 0);

            rest.deploy(JSON.writeValueAsString(Map.of("name", connector,
                "config", StandbySinkConnector.config(shardId, standbyShard.connectionString(), dlq))));
            rest.awaitRunning(connector, Duration.ofSeconds(60));
            write(users, sessions, 100);
            org.bson.BsonTimestamp lastWrite = lastUserWriteTime(primary.connectionString());

            Map<String, Long> ends = new HashMap<>();
            for (String topic : List.of("cdc." + shardId + ".app.users", "cdc." + shardId + ".app.sessions")) {
                CdcTopics.awaitSettled(cluster.bootstrapServers(), topic);
                ends.put(topic, endOffset(admin, topic));
            }
            await(() -> ends.entrySet().stream().allMatch(end -> StandbyProgress.applied(standby).getOrDefault(end.getKey(), -1L) >= end.getValue() - 1));

            assertThat(StandbyProgress.applied(standby)).hasSize(2);
            ends.forEach((topic, end) -> assertThat(StandbyProgress.applied(standby)).containsEntry(topic, end - 1));
            assertThat(StandbyProgress.reported(standby)).isEmpty();
            assertThat(StandbyProgress.of(standby).find(new Document("_id", "app.users")).first().getLong(StandbyProgress.CLUSTER_TIME))
                .as("the cluster time of the last change applied: the shard's answer to that write, read from Debezium's source.ts_ms and ord")
                .isEqualTo(lastWrite.getValue());
            for (String collection : List.of("users", "sessions")) {
                List<Document> expected = shard.getDatabase("app").getCollection(collection).find().into(new ArrayList<>());
                assertThat(standby.getDatabase("app").getCollection(collection).find().into(new ArrayList<>()))
                    .as(collection).isNotEmpty().containsExactlyInAnyOrderElementsOf(expected);
            }
            assertThat(endOffset(admin, dlq)).as("records on the dead-letter topic").isZero();
        } finally {
            rest.delete(connector);
            cluster.removeShard(shardId);
        }
    }

    /** Inserts, updates, replaces and deletes users and sessions whose ids start at {@code from}. */
    private static void write(MongoCollection<Document> users, MongoCollection<Document> sessions, int from) {
        for (int i = from; i < from + 40; i++) {
            users.insertOne(new Document("_id", "u" + i).append("name", "user " + i).append("logins", 0));
            sessions.insertOne(new Document("_id", (long) i).append("userId", "u" + i).append("open", true));
        }
        for (int i = from; i < from + 40; i += 3) {
            users.updateOne(Filters.eq("_id", "u" + i), Updates.combine(Updates.inc("logins", 1), Updates.set("seen", i)));
            sessions.replaceOne(Filters.eq("_id", (long) i), new Document("_id", (long) i).append("userId", "u" + i).append("open", false));
        }
        for (int i = from; i < from + 40; i += 5) {
            users.deleteOne(Filters.eq("_id", "u" + i));
            sessions.deleteOne(Filters.eq("_id", (long) i));
        }
    }

    /** Inserts one more user, returning the cluster time the shard answered the insert with. */
    private static org.bson.BsonTimestamp lastUserWriteTime(String uri) {
        org.bson.BsonTimestamp[] time = new org.bson.BsonTimestamp[1];
        com.mongodb.event.CommandListener listener = new com.mongodb.event.CommandListener() {
            @Override
            public void commandSucceeded(com.mongodb.event.CommandSucceededEvent event) {
                if (event.getCommandName().equals("insert")) {
                    time[0] = event.getResponse().getTimestamp("operationTime");
                }
            }
        };
        try (MongoClient client = MongoClients.create(com.mongodb.MongoClientSettings.builder()
                .applyConnectionString(new com.mongodb.ConnectionString(uri)).addCommandListener(listener).build())) {
            client.getDatabase("app").getCollection("users").insertOne(new Document("_id", "last").append("name", "last user"));
        }
        return time[0];
    }

    private static long endOffset(Admin admin, String topic) throws Exception {
        TopicPartition partition = new TopicPartition(topic, 0);
        return admin.listOffsets(Map.of(partition, OffsetSpec.latest())).partitionResult(partition).get().offset();
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + CONVERGENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the standby did not reach the end of the shard's CDC topics within " + CONVERGENCE);
            }
            Thread.sleep(200);
        }
    }
}
