package io.shardline.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.bson.BsonDocument;
import org.bson.BsonTimestamp;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import com.mongodb.MongoCommandException;
import com.mongodb.client.ChangeStreamIterable;
import com.mongodb.client.MongoChangeStreamCursor;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReturnDocument;
import com.mongodb.client.model.Updates;
import com.mongodb.client.model.changestream.ChangeStreamDocument;
import com.mongodb.client.model.changestream.FullDocument;

/**
 * Change streams of an {@link EmbeddedShard} as mongodb-driver-sync sees them: the event shapes MongoDB writes,
 * resuming, waiting, retention and the three scopes.
 */
class ChangeStreamConformanceIT {

    private static EmbeddedShard shard;
    private static MongoClient client;

    @BeforeAll
    static void startShard() {
        shard = EmbeddedShard.start("conformance");
        client = MongoClients.create(shard.connectionString());
    }

    @AfterAll
    static void stopShard() {
        client.close();
        shard.close();
    }

    private static MongoCollection<Document> collection(TestInfo test) {
        return client.getDatabase("conf").getCollection(test.getTestMethod().orElseThrow().getName());
    }

    private static MongoCursor<BsonDocument> raw(ChangeStreamIterable<Document> stream) {
        return stream.withDocumentClass(BsonDocument.class).cursor();
    }

    private static List<BsonDocument> take(MongoCursor<BsonDocument> cursor, int count) {
        List<BsonDocument> events = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (events.size() < count && System.nanoTime() < deadline) {
            BsonDocument event = cursor.tryNext();
            if (event != null) {
                events.add(event);
            }
        }
        return events;
    }

    @Test
    void shouldAnswerHelloAsAReplicaSetPrimaryWithOperationTime() {
        Document hello = client.getDatabase("admin").runCommand(new Document("hello", 1));

        assertThat(hello.getString("setName")).isEqualTo(shard.replicaSetName());
        assertThat(hello.getBoolean("isWritablePrimary")).isTrue();
        assertThat(hello.getList("hosts", String.class)).containsExactly("127.0.0.1:" + shard.port());
        assertThat(hello.get("operationTime")).isInstanceOf(BsonTimestamp.class);
    }

    @Test
    void shouldAnswerAWriteWithItsOwnClusterTimeAsAReplicaSetMemberDoes(TestInfo test) {
        List<BsonTimestamp> replies = java.util.Collections.synchronizedList(new ArrayList<>());
        com.mongodb.event.CommandListener listener = new com.mongodb.event.CommandListener() {
            @Override
            public void commandSucceeded(com.mongodb.event.CommandSucceededEvent event) {
                if (List.of("insert", "update", "delete").contains(event.getCommandName())) {
                    replies.add(event.getResponse().getTimestamp("operationTime"));
                }
            }
        };
        try (MongoClient listening = MongoClients.create(com.mongodb.MongoClientSettings.builder()
                .applyConnectionString(new com.mongodb.ConnectionString(shard.connectionString())).addCommandListener(listener).build());
             MongoCursor<BsonDocument> cursor = raw(collection(test).watch().maxAwaitTime(200, TimeUnit.MILLISECONDS))) {
            MongoCollection<Document> users = listening.getDatabase("conf").getCollection(test.getTestMethod().orElseThrow().getName());
            users.insertMany(List.of(new Document("_id", "u1"), new Document("_id", "u2")));
            // Another namespace's write in between: a write's time is its own, not the shard's latest.
            client.getDatabase("conf").getCollection("other").insertOne(new Document("_id", "o1"));
            users.updateOne(Filters.eq("_id", "u1"), Updates.set("name", "Ann"));
            users.deleteOne(Filters.eq("_id", "nobody"));

            List<BsonDocument> events = take(cursor, 3);

            assertThat(events).hasSize(3);
            assertThat(replies).hasSize(3);
            assertThat(replies.get(0)).as("an insert of two documents: the second one's time").isEqualTo(events.get(1).getTimestamp("clusterTime"));
            assertThat(replies.get(1)).isEqualTo(events.get(2).getTimestamp("clusterTime"));
            assertThat(replies.get(2)).as("a write that changed nothing: its namespace's latest time, the update's").isEqualTo(replies.get(1));

            client.getDatabase("conf").getCollection("other").insertOne(new Document("_id", "o2"));
            users.deleteOne(Filters.eq("_id", "nobody"));
            listening.getDatabase("conf").getCollection("never").deleteOne(Filters.eq("_id", "nobody"));
            assertThat(replies.get(3)).as("not another namespace's later write").isEqualTo(replies.get(1));
            assertThat(replies.get(4)).as("a namespace never written").isEqualTo(new BsonTimestamp(0));
        }
    }

    @Test
    void shouldEmitInsertUpdateReplaceDeleteInMongoDbShapeWhenWatchingACollection(TestInfo test) {
        MongoCollection<Document> users = collection(test);
        try (MongoCursor<BsonDocument> cursor = raw(users.watch()
            .fullDocument(FullDocument.UPDATE_LOOKUP).maxAwaitTime(200, TimeUnit.MILLISECONDS))) {

            users.insertOne(new Document("_id", "u1").append("tenantId", "acme").append("name", "Ann").append("tmp", 1));
            users.updateOne(Filters.eq("_id", "u1"), Updates.combine(Updates.set("name", "Anna"), Updates.unset("tmp"), Updates.inc("logins", 1)));
            users.replaceOne(Filters.eq("_id", "u1"), new Document("tenantId", "acme").append("name", "Anna B"));
            users.deleteOne(Filters.eq("_id", "u1"));

            List<BsonDocument> events = take(cursor, 4);

            assertThat(events).extracting(e -> e.getString("operationType").getValue())
                .containsExactly("insert", "update", "replace", "delete");
            BsonDocument insert = events.get(0);
            assertThat(insert.keySet()).containsExactly("_id", "operationType", "clusterTime", "wallTime", "fullDocument", "ns", "documentKey");
            assertThat(insert.getDocument("ns")).isEqualTo(BsonDocument.parse("{db: 'conf', coll: '" + users.getNamespace().getCollectionName() + "'}"));
            assertThat(insert.getDocument("documentKey")).isEqualTo(BsonDocument.parse("{_id: 'u1'}"));
            assertThat(insert.getDocument("fullDocument").getString("name").getValue()).isEqualTo("Ann");
            assertThat(insert.get("clusterTime").isTimestamp()).isTrue();
            assertThat(insert.get("wallTime").isDateTime()).isTrue();

            BsonDocument update = events.get(1);
            assertThat(update.keySet()).containsExactly("_id", "operationType", "clusterTime", "wallTime", "fullDocument", "ns", "documentKey", "updateDescription");
            assertThat(update.getDocument("updateDescription")).isEqualTo(BsonDocument.parse(
                "{updatedFields: {name: 'Anna', logins: 1}, removedFields: ['tmp'], truncatedArrays: []}"));
            assertThat(update.getDocument("fullDocument")).isEqualTo(BsonDocument.parse(
                "{_id: 'u1', tenantId: 'acme', name: 'Anna', logins: 1}"));
            assertThat(update.getDocument("documentKey")).isEqualTo(BsonDocument.parse("{_id: 'u1'}"));

            assertThat(events.get(2).getDocument("fullDocument")).isEqualTo(BsonDocument.parse("{_id: 'u1', tenantId: 'acme', name: 'Anna B'}"));
            assertThat(events.get(3).keySet()).containsExactly("_id", "operationType", "clusterTime", "wallTime", "ns", "documentKey");
            assertThat(events).extracting(e -> e.get("clusterTime").asTimestamp()).isSorted();
        }
    }

    @Test
    void shouldOmitThePostImageOfAnUpdateWhenFullDocumentIsDefault(TestInfo test) {
        MongoCollection<Document> users = collection(test);
        try (MongoCursor<BsonDocument> cursor = raw(users.watch())) {
            users.insertOne(new Document("_id", 1).append("n", 1));
            users.updateOne(Filters.eq("_id", 1), Updates.set("n", 2));

            List<BsonDocument> events = take(cursor, 2);

            assertThat(events.get(1).containsKey("fullDocument")).isFalse();
            assertThat(events.get(1).getDocument("updateDescription").getDocument("updatedFields")).isEqualTo(BsonDocument.parse("{n: 2}"));
        }
    }

    @Test
    void shouldResumeAfterATokenWithNothingMissingOrRepeated(TestInfo test) {
        MongoCollection<Document> users = collection(test);
        BsonDocument token;
        try (MongoChangeStreamCursor<ChangeStreamDocument<Document>> cursor = users.watch().cursor()) {
            for (int i = 0; i < 5; i++) {
                users.insertOne(new Document("_id", i));
            }
            ChangeStreamDocument<Document> first = null;
            while (first == null) {
                first = cursor.tryNext();
            }
            token = first.getResumeToken();
        }

        ChangeStreamIterable<Document> resumed = users.watch().resumeAfter(token);
        try (MongoChangeStreamCursor<ChangeStreamDocument<Document>> cursor = resumed.cursor()) {
            List<Object> ids = new ArrayList<>();
            while (ids.size() < 4) {
                ChangeStreamDocument<Document> event = cursor.tryNext();
                if (event != null) {
                    ids.add(event.getDocumentKey().getInt32("_id").getValue());
                }
            }
            assertThat(ids).containsExactly(1, 2, 3, 4);
            assertThat(cursor.tryNext()).isNull();
        }
    }

    @Test
    void shouldStartAfterATokenLikeResumeAfter(TestInfo test) {
        MongoCollection<Document> users = collection(test);
        BsonDocument second;
        try (MongoChangeStreamCursor<ChangeStreamDocument<Document>> cursor = users.watch().cursor()) {
            users.insertMany(List.of(new Document("_id", "a"), new Document("_id", "b"), new Document("_id", "c")));
            cursor.tryNext();
            ChangeStreamDocument<Document> event = cursor.tryNext();
            while (event == null) {
                event = cursor.tryNext();
            }
            second = event.getResumeToken();
        }

        try (MongoCursor<BsonDocument> cursor = raw(users.watch().startAfter(second))) {
            List<BsonDocument> events = take(cursor, 1);
            assertThat(events).extracting(e -> e.getDocument("documentKey").getString("_id").getValue()).containsExactly("c");
        }
    }

    @Test
    void shouldStartAtAnOperationTimeInclusively(TestInfo test) {
        MongoCollection<Document> users = collection(test);
        users.insertOne(new Document("_id", "before"));
        Document hello = users.insertOne(new Document("_id", "marker")).wasAcknowledged()
            ? client.getDatabase("conf").runCommand(new Document("ping", 1)) : null;
        BsonTimestamp markerTime = (BsonTimestamp) hello.get("operationTime");
        users.insertOne(new Document("_id", "after"));

        try (MongoCursor<BsonDocument> cursor = raw(users.watch().startAtOperationTime(markerTime))) {
            List<BsonDocument> events = take(cursor, 2);
            assertThat(events).extracting(e -> e.getDocument("documentKey").getString("_id").getValue())
                .containsExactly("marker", "after");
        }
    }

    @Test
    void shouldFailWithChangeStreamHistoryLostWhenResumingBehindTheRetention() {
        EmbeddedShardConfig small = EmbeddedShardConfig.defaults("small").withOplogRetentionEntries(10);
        try (EmbeddedShard tiny = EmbeddedShard.start("small", small);
             MongoClient tinyClient = MongoClients.create(tiny.connectionString())) {
            MongoCollection<Document> coll = tinyClient.getDatabase("db").getCollection("c");
            BsonDocument early;
            try (MongoChangeStreamCursor<ChangeStreamDocument<Document>> cursor = coll.watch().cursor()) {
                coll.insertOne(new Document("_id", 0));
                ChangeStreamDocument<Document> first = null;
                while (first == null) {
                    first = cursor.tryNext();
                }
                early = first.getResumeToken();
            }
            for (int i = 1; i <= 30; i++) {
                coll.insertOne(new Document("_id", i));
            }

            assertThat(tiny.oplogSize()).isEqualTo(10);
            assertThatThrownBy(() -> coll.watch().resumeAfter(early).cursor().close())
                .isInstanceOf(MongoCommandException.class)
                .satisfies(e -> {
                    assertThat(((MongoCommandException) e).getErrorCode()).isEqualTo(286);
                    assertThat(((MongoCommandException) e).getErrorCodeName()).isEqualTo("ChangeStreamHistoryLost");
                });
        }
    }

    @Test
    void shouldWaitForMaxAwaitTimeInsteadOfSpinningWhenNothingHappens(TestInfo test) {
        MongoCollection<Document> users = collection(test);
        try (MongoCursor<BsonDocument> cursor = raw(users.watch()
            .maxAwaitTime(400, TimeUnit.MILLISECONDS))) {
            long start = System.nanoTime();
            BsonDocument event = cursor.tryNext();
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(event).isNull();
            // A lower bound only: the server held the getMore; a loaded machine can only make it longer.
            assertThat(waitedMillis).isGreaterThanOrEqualTo(350);
        }
    }

    @Test
    void shouldWaitTheConfiguredDefaultWhenTheClientGivesNoAwaitTime() {
        EmbeddedShardConfig patient = EmbeddedShardConfig.defaults("patient").withDefaultAwaitTime(Duration.ofMillis(1500));
        try (EmbeddedShard slow = EmbeddedShard.start("patient", patient);
             MongoClient slowClient = MongoClients.create(slow.connectionString());
             MongoCursor<BsonDocument> cursor = raw(slowClient.getDatabase("db").getCollection("c").watch())) {
            long start = System.nanoTime();
            BsonDocument event = cursor.tryNext();
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

            assertThat(event).isNull();
            assertThat(waitedMillis).isGreaterThanOrEqualTo(1400);
        }
    }

    @Test
    void shouldBindTheConfiguredPortAndAnswerWithTheConfiguredReplicaSetName() {
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            port = probe.getLocalPort();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        EmbeddedShardConfig fixed = EmbeddedShardConfig.defaults("fixed").withPort(port).withReplicaSetName("auth-rs");
        try (EmbeddedShard pinned = EmbeddedShard.start("fixed", fixed);
             MongoClient pinnedClient = MongoClients.create(pinned.connectionString())) {
            Document hello = pinnedClient.getDatabase("admin").runCommand(new Document("hello", 1));

            assertThat(pinned.port()).isEqualTo(port);
            assertThat(pinned.connectionString()).isEqualTo("mongodb://127.0.0.1:" + port + "/?replicaSet=auth-rs");
            assertThat(hello.getString("setName")).isEqualTo("auth-rs");
        }
    }

    @Test
    void shouldReturnAnEventAsSoonAsItIsWrittenWhileAGetMoreWaits(TestInfo test) throws Exception {
        MongoCollection<Document> users = collection(test);
        try (MongoCursor<BsonDocument> cursor = raw(users.watch()
            .maxAwaitTime(30, TimeUnit.SECONDS))) {
            Thread writer = new Thread(() -> {
                sleep(Duration.ofMillis(200));
                users.insertOne(new Document("_id", "late"));
            });
            writer.start();

            BsonDocument event = cursor.tryNext();
            writer.join();

            assertThat(event).isNotNull();
            assertThat(event.getDocument("documentKey").getString("_id").getValue()).isEqualTo("late");
        }
    }

    @Test
    void shouldSeeEveryCollectionOfADatabaseAndNothingElseWhenWatchingTheDatabase() {
        try (MongoCursor<BsonDocument> cursor = raw(client.getDatabase("dbscope").watch())) {
            client.getDatabase("dbscope").getCollection("a").insertOne(new Document("_id", 1));
            client.getDatabase("otherdb").getCollection("a").insertOne(new Document("_id", 2));
            client.getDatabase("dbscope").getCollection("b").insertOne(new Document("_id", 3));

            List<BsonDocument> events = take(cursor, 2);

            assertThat(events).extracting(e -> e.getDocument("ns").getString("coll").getValue() + "/" + e.getDocument("documentKey").get("_id").asInt32().getValue())
                .containsExactly("a/1", "b/3");
        }
    }

    @Test
    void shouldSeeEveryDatabaseWhenWatchingTheDeployment() {
        try (MongoCursor<BsonDocument> cursor = raw(client.watch())) {
            client.getDatabase("clusterA").getCollection("x").insertOne(new Document("_id", 1));
            client.getDatabase("clusterB").getCollection("y").insertOne(new Document("_id", 2));

            List<BsonDocument> events = take(cursor, 2);

            assertThat(events).extracting(e -> e.getDocument("ns").getString("db").getValue())
                .containsExactly("clusterA", "clusterB");
        }
    }

    @Test
    void shouldEndACollectionStreamWithDropAndInvalidateWhenTheCollectionIsDropped(TestInfo test) {
        MongoCollection<Document> users = collection(test);
        users.insertOne(new Document("_id", 0));
        try (MongoCursor<BsonDocument> cursor = raw(users.watch())) {
            users.drop();

            List<BsonDocument> events = take(cursor, 2);

            assertThat(events).extracting(e -> e.getString("operationType").getValue()).containsExactly("drop", "invalidate");
        }
    }

    @Test
    void shouldAnswerAFindThatPinsAnIdAmongOtherConditionsLikeAScanWould(TestInfo test) {
        MongoCollection<Document> users = collection(test);
        users.insertMany(List.of(new Document("_id", "a").append("tenantId", "acme").append("age", 30),
            new Document("_id", "b").append("tenantId", "zeta").append("age", 40)));

        Document both = new Document("$and", List.of(new Document("tenantId", "acme"), new Document("_id", "a")));
        Document wrongTenant = new Document("$and", List.of(new Document("tenantId", "zeta"), new Document("_id", new Document("$eq", "a"))));
        Document nested = new Document("$and", List.of(new Document("age", new Document("$gte", 10)),
            new Document("$and", List.of(new Document("_id", "b"), new Document("tenantId", "zeta")))));

        assertThat(users.find(both).projection(new Document("age", 0)).into(new java.util.ArrayList<>()))
            .containsExactly(new Document("_id", "a").append("tenantId", "acme"));
        assertThat(users.find(wrongTenant).into(new java.util.ArrayList<>())).isEmpty();
        assertThat(users.find(nested).into(new java.util.ArrayList<>())).extracting(d -> d.get("_id")).containsExactly("b");
        assertThat(users.find(both).skip(1).into(new java.util.ArrayList<>())).isEmpty();
    }

    @Test
    void shouldRecordFindAndModifyLikeAnyOtherWrite(TestInfo test) {
        MongoCollection<Document> users = collection(test);
        users.insertOne(new Document("_id", "k").append("v", 1));
        try (MongoCursor<BsonDocument> cursor = raw(users.watch()
            .fullDocument(FullDocument.UPDATE_LOOKUP))) {
            users.findOneAndUpdate(Filters.eq("_id", "k"), Updates.set("v", 2), new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER));
            users.findOneAndUpdate(Filters.eq("_id", "new"), Updates.set("v", 3), new FindOneAndUpdateOptions().upsert(true));
            users.findOneAndDelete(Filters.eq("_id", "k"));
            users.findOneAndUpdate(Filters.lt("v", 0), Updates.set("v", 5), new FindOneAndUpdateOptions().upsert(true));

            List<BsonDocument> events = take(cursor, 4);

            assertThat(events).extracting(e -> e.getString("operationType").getValue()).containsExactly("update", "insert", "delete", "insert");
            assertThat(events.get(0).getDocument("fullDocument")).isEqualTo(BsonDocument.parse("{_id: 'k', v: 2}"));
            assertThat(events.get(1).getDocument("fullDocument")).isEqualTo(BsonDocument.parse("{_id: 'new', v: 3}"));
            assertThat(events.get(3).getDocument("fullDocument").getInt32("v").getValue())
                .as("an upsert whose new document no longer matches the filter").isEqualTo(5);
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
