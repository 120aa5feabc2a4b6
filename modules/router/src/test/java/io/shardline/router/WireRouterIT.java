package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.bson.BsonDocument;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.ConnectionString;
import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoCommandException;
import com.mongodb.MongoCursorNotFoundException;
import com.mongodb.MongoQueryException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.Accumulators;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.Updates;
import com.mongodb.event.CommandListener;
import com.mongodb.event.CommandStartedEvent;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.key.KeyRange;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.core.routing.RangeRelease;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.wire.WireServer;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * The router over the MongoDB wire protocol, driven by the MongoDB Java driver as an application would drive mongos:
 * CRUD, bulk writes with per-statement errors, cursors paged across three shards, a cursor open while its range
 * moves, aggregation, distinct, errors in MongoDB's shape, and malformed messages on a raw socket.
 */
@ShardlineCluster
class WireRouterIT {

    private static final int USERS = 300;

    private static RouterFixture fixture;
    private static EmbeddedShard s3;
    private static ShardRouter router;
    private static WireServer wire;
    private static MongoClient client;
    private static final AtomicInteger GET_MORES = new AtomicInteger();
    private static String database;
    private static MongoClient s1;
    private static MongoClient s2;

    @BeforeAll
    static void start(EmbeddedCluster cluster, TestNames names) throws Exception {
        fixture = new RouterFixture(cluster, names);
        s3 = fixture.registerThreeShards(names);
        database = names.database();
        String users = database + ".users";
        fixture.namespace(users, ShardKeyStrategyType.HASHED, List.of("_id"),
            InitialChunks.layout(users, 1, InitialChunks.hashedBoundaries(6), List.of("s1", "s2", "s3")));
        router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog)
            .withReleaseCheck(RouterConfig.ReleaseCheck.EVERY_READ), new SimpleMeterRegistry(), Duration.ofSeconds(60));
        wire = WireServer.start(router, WireServer.Settings.defaults(0));
        client = MongoClients.create(MongoClientSettings.builder().applyConnectionString(new ConnectionString(wire.uri()))
            .addCommandListener(new CommandListener() {
                @Override
                public void commandStarted(CommandStartedEvent event) {
                    if (event.getCommandName().equals("getMore")) {
                        GET_MORES.incrementAndGet();
                    }
                }
            }).build());
        List<Document> documents = new ArrayList<>();
        for (int i = 0; i < USERS; i++) {
            documents.add(new Document("_id", "u" + i).append("tenantId", "t" + (i % 5)).append("age", i % 37)
                .append("name", "user " + i));
        }
        client.getDatabase(database).getCollection("users").insertMany(documents);
        s1 = MongoClients.create(cluster.shards().get("s1").connectionString());
        s2 = MongoClients.create(cluster.shards().get("s2").connectionString());
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        s1.close();
        s2.close();
        wire.close();
        router.close();
        s3.close();
        fixture.publisher.close();
    }

    private static MongoCollection<Document> users() {
        return client.getDatabase(database).getCollection("users");
    }

    @Test
    void shouldAnswerHelloAsMongosDoes() {
        Document hello = client.getDatabase("admin").runCommand(new Document("hello", 1));

        assertThat(hello.getString("msg")).isEqualTo("isdbgrid");
        assertThat(hello.getBoolean("isWritablePrimary")).isTrue();
        assertThat(hello.getInteger("maxWireVersion")).isGreaterThanOrEqualTo(17);
        assertThat(hello.getInteger("maxBsonObjectSize")).isEqualTo(16 * 1024 * 1024);
        assertThat(hello.getInteger("logicalSessionTimeoutMinutes")).isEqualTo(30);
        assertThat(client.getDatabase("admin").runCommand(new Document("ping", 1)).get("ok", Number.class).doubleValue()).isEqualTo(1.0);
        assertThat(client.getDatabase("admin").runCommand(new Document("serverStatus", 1)).getString("process")).isEqualTo("mongos");
        assertThat(router.meterRegistry().get("shardline.wire.commands").tag("command", "ping").tag("outcome", "ok").timer().count())
            .isPositive();
        assertThat(router.meterRegistry().get("shardline.wire.connections").gauge().value()).isPositive();
    }

    @Test
    void shouldPageASortedCursorAcrossThreeShardsInOrderWithNoneMissingOrRepeated() {
        int before = GET_MORES.get();
        List<Document> read = users().find().sort(Sorts.ascending("age", "_id")).batchSize(7).into(new ArrayList<>());

        assertThat(read).hasSize(USERS);
        assertThat(read.stream().map(d -> d.getString("_id")).distinct().count()).isEqualTo(USERS);
        for (int i = 1; i < read.size(); i++) {
            Document previous = read.get(i - 1);
            Document current = read.get(i);
            int byAge = Integer.compare(previous.getInteger("age"), current.getInteger("age"));
            assertThat(byAge < 0 || byAge == 0 && previous.getString("_id").compareTo(current.getString("_id")) < 0)
                .as("%s before %s", previous, current).isTrue();
        }
        assertThat(GET_MORES.get() - before).as("getMores").isGreaterThanOrEqualTo(USERS / 7);
    }

    @Test
    void shouldPageAnUnsortedCursorWithSkipAndLimit() {
        List<Document> all = users().find(Filters.eq("tenantId", "t1")).batchSize(4).into(new ArrayList<>());
        List<Document> window = users().find(Filters.eq("tenantId", "t1")).sort(Sorts.descending("_id")).skip(10).limit(25)
            .batchSize(6).into(new ArrayList<>());
        List<String> expected = all.stream().map(d -> d.getString("_id")).sorted(java.util.Comparator.reverseOrder())
            .skip(10).limit(25).toList();

        assertThat(all).hasSize(USERS / 5);
        assertThat(all.stream().map(d -> d.getString("_id")).distinct().count()).isEqualTo(USERS / 5);
        assertThat(window.stream().map(d -> d.getString("_id")).toList()).isEqualTo(expected);
    }

    @Test
    void shouldAnswerABatchSizeOfZeroWithACursorAndNoDocumentsYet() {
        var db = client.getDatabase(database);
        Document first = db.runCommand(new Document("find", "users").append("filter", new Document("_id", "u1")).append("batchSize", 0));
        Document cursor = first.get("cursor", Document.class);
        assertThat(cursor.getList("firstBatch", Document.class)).isEmpty();
        assertThat(cursor.getLong("id")).isNotZero();

        Document more = db.runCommand(new Document("getMore", cursor.getLong("id")).append("collection", "users"));
        assertThat(more.get("cursor", Document.class).getList("nextBatch", Document.class)).extracting(d -> d.getString("_id"))
            .containsExactly("u1");
        assertThat(more.get("cursor", Document.class).getLong("id")).isZero();
    }

    @Test
    void shouldCloseTheRoutersCursorWhenTheClientClosesItEarly() {
        try (MongoCursor<Document> cursor = users().find().batchSize(3).cursor()) {
            cursor.next();
            assertThat(openCursors()).isEqualTo(1);
        }
        assertThat(openCursors()).isZero();
    }

    private static int openCursors() {
        Document status = client.getDatabase("admin").runCommand(new Document("serverStatus", 1));
        return status.get("shardline", Document.class).getInteger("openCursors");
    }

    @Test
    void shouldUpdateDeleteCountAggregateAndListDistinctValues() {
        MongoCollection<Document> users = users();
        long ageSeven = users.countDocuments(Filters.eq("age", 7));

        var updated = users.updateMany(Filters.eq("age", 7), Updates.set("flag", "seven"));
        var upserted = users.updateOne(Filters.and(Filters.eq("_id", "new-1"), Filters.eq("tenantId", "t9")), Updates.set("name", "new"),
            new com.mongodb.client.model.UpdateOptions().upsert(true));
        List<Document> groups = users.aggregate(List.of(Aggregates.match(Filters.exists("flag")),
            Aggregates.group("$flag", Accumulators.sum("n", 1)))).into(new ArrayList<>());
        List<String> tenants = users.distinct("tenantId", String.class).into(new ArrayList<>());
        var deleted = users.deleteOne(Filters.eq("_id", "new-1"));

        assertThat(updated.getMatchedCount()).isEqualTo(ageSeven);
        assertThat(updated.getModifiedCount()).isEqualTo(ageSeven);
        assertThat(upserted.getUpsertedId()).isNotNull();
        assertThat(groups).containsExactly(new Document("_id", "seven").append("n", (int) ageSeven));
        assertThat(tenants).containsExactlyInAnyOrder("t0", "t1", "t2", "t3", "t4", "t9");
        assertThat(deleted.getDeletedCount()).isEqualTo(1);
        assertThat(users.countDocuments()).as("documents beyond the users: %s", users.find(Filters.not(Filters.regex("_id", "^u[0-9]+$")))
            .into(new ArrayList<>())).isEqualTo(USERS);
        assertThat(users.estimatedDocumentCount()).isEqualTo(USERS);
    }

    @Test
    void shouldKeepTheStoredTenantOfADocumentAServiceReplaces() {
        MongoCollection<Document> users = users();
        users.insertOne(new Document("_id", "rep1").append("tenantId", "t3").append("name", "before"));

        assertThatThrownBy(() -> users.replaceOne(Filters.eq("_id", "rep1"), new Document("name", "lost tenant")))
            .isInstanceOfSatisfying(com.mongodb.MongoWriteException.class, e -> {
                assertThat(e.getCode()).isEqualTo(2);
                assertThat(e.getMessage()).contains("tenantId");
            });
        assertThatThrownBy(() -> users.updateOne(Filters.eq("_id", "rep1"), Updates.set("tenantId", "t4")))
            .as("a tenant never changes").isInstanceOfSatisfying(com.mongodb.MongoWriteException.class, e -> {
                assertThat(e.getCode()).isEqualTo(66);
                assertThat(e.getError().getMessage()).contains("tenantId");
            });
        var replaced = users.replaceOne(Filters.and(Filters.eq("_id", "rep1"), Filters.eq("tenantId", "t3")), new Document("name", "after"));

        assertThat(replaced.getModifiedCount()).isEqualTo(1);
        assertThat(users.find(Filters.eq("_id", "rep1")).first()).containsEntry("tenantId", "t3").containsEntry("name", "after");
        users.deleteOne(Filters.eq("_id", "rep1"));
    }

    @Test
    void shouldReportEachFailedStatementOfABulkInsertByIndex() {
        MongoCollection<Document> users = users();
        List<Document> ordered = List.of(new Document("_id", "b1"), new Document("_id", "u5"), new Document("_id", "b2"));
        List<Document> unordered = List.of(new Document("_id", "b3"), new Document("_id", "u6"), new Document("_id", "b4"));

        assertThatThrownBy(() -> users.insertMany(ordered))
            .isInstanceOfSatisfying(MongoBulkWriteException.class, e -> {
                assertThat(e.getWriteErrors()).hasSize(1);
                assertThat(e.getWriteErrors().get(0).getIndex()).isEqualTo(1);
                assertThat(e.getWriteErrors().get(0).getCode()).isEqualTo(11000);
                assertThat(e.getWriteResult().getInsertedCount()).isEqualTo(1);
            });
        assertThatThrownBy(() -> users.insertMany(unordered, new InsertManyOptions().ordered(false)))
            .isInstanceOfSatisfying(MongoBulkWriteException.class, e -> {
                assertThat(e.getWriteErrors()).extracting(error -> error.getIndex()).containsExactly(1);
                assertThat(e.getWriteResult().getInsertedCount()).isEqualTo(2);
            });
        assertThat(users.countDocuments(Filters.in("_id", "b1", "b2", "b3", "b4"))).as("b2 follows the ordered failure").isEqualTo(3);
        users.deleteMany(Filters.in("_id", "b1", "b2", "b3", "b4"));
    }

    @Test
    void shouldAnswerErrorsInMongoDbsShape() {
        assertThatThrownBy(() -> client.getDatabase("admin").runCommand(new Document("frobnicate", 1)))
            .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                assertThat(e.getErrorCode()).isEqualTo(59);
                assertThat(e.getErrorCodeName()).isEqualTo("CommandNotFound");
                assertThat(e.getErrorMessage()).contains("frobnicate");
            });
        assertThatThrownBy(() -> client.getDatabase(database).getCollection("nothing").find().first())
            .isInstanceOfSatisfying(MongoQueryException.class, e -> assertThat(e.getErrorCode()).isEqualTo(26));
        assertThatThrownBy(() -> users().aggregate(List.of(new Document("$lookup", new Document("from", "sessions")
                .append("localField", "_id").append("foreignField", "userId").append("as", "sessions")))).first())
            .isInstanceOfSatisfying(MongoCommandException.class, e -> {
                assertThat(e.getErrorCode()).isEqualTo(115);
                assertThat(e.getErrorCodeName()).isEqualTo("CommandNotSupported");
                assertThat(e.getErrorMessage()).contains("$lookup");
            });
        assertThatThrownBy(() -> users().find().collation(com.mongodb.client.model.Collation.builder().locale("fr").build()).first())
            .isInstanceOfSatisfying(MongoQueryException.class, e -> {
                assertThat(e.getErrorCode()).isEqualTo(72);
                assertThat(e.getErrorMessage()).contains("collation");
            });
    }

    @Test
    void shouldListTheShardedDatabasesAndCollections() {
        assertThat(client.listDatabaseNames().into(new ArrayList<>())).contains(database);
        assertThat(client.getDatabase(database).listCollectionNames().into(new ArrayList<>())).contains("users");
    }

    @Test
    void shouldCloseCursorsLeftIdleForLongerThanTheTimeout() throws Exception {
        try (WireServer quick = WireServer.start(router, WireServer.Settings.defaults(0).withCursorIdleTimeout(Duration.ofMillis(500)));
             MongoClient quickClient = MongoClients.create(quick.uri())) {
            MongoCursor<Document> cursor = quickClient.getDatabase(database).getCollection("users").find().batchSize(2).cursor();
            cursor.next();
            cursor.next();
            Thread.sleep(2_500);

            assertThatThrownBy(cursor::next).isInstanceOf(MongoCursorNotFoundException.class);
        }
    }

    @Test
    void shouldContinueACursorWhoseRangeMovedAndFailItRetryablyOnceTheOldCopyIsDeleted() throws Exception {
        String ns = database + ".moving";
        Chunk whole = Chunk.active(ns, KeyRange.ALL, "s1", 1, 1);
        long before = router.routingVersion();
        fixture.namespace(ns, ShardKeyStrategyType.TENANT, List.of("tenantId"), List.of(whole));
        router.awaitRoutingVersionAbove(before, Duration.ofSeconds(10));
        MongoCollection<Document> moving = client.getDatabase(database).getCollection("moving");
        List<Document> documents = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            documents.add(new Document("_id", String.format("m%02d", i)).append("tenantId", "acme"));
        }
        moving.insertMany(documents);

        // The range moves to s2 and the routing says so; s1 keeps its copy through the grace period.
        MongoCursor<Document> during = moving.find().sort(Sorts.ascending("_id")).batchSize(5).cursor();
        MongoCursor<Document> after = moving.find().sort(Sorts.ascending("_id")).batchSize(5).cursor();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            seen.add(during.next().getString("_id"));
            after.next();
        }
        List<Document> copied = s1.getDatabase(database).getCollection("moving").find().into(new ArrayList<>());
        s2.getDatabase(database).getCollection("moving").insertMany(copied);
        long moved = router.routingVersion();
        fixture.publisher.publishChunk(whole.withOwner("s2", 2, ChunkState.ACTIVE, null));
        router.awaitRoutingVersionAbove(moved, Duration.ofSeconds(10));
        while (during.hasNext()) {
            assertThat(seen.add(during.next().getString("_id"))).isTrue();
        }
        assertThat(seen).hasSize(40);

        // The grace period ends: s1 records the release and deletes its copy. A cursor still reading s1 must fail.
        s1.getDatabase(RangeRelease.DATABASE).getCollection(RangeRelease.COLLECTION, BsonDocument.class)
            .insertOne(new RangeRelease(ns, whole.range(), "s2", "m-wire", router.routingVersion()).toDocument());
        s1.getDatabase(database).getCollection("moving").deleteMany(new Document());

        assertThatThrownBy(() -> {
            while (after.hasNext()) {
                after.next();
            }
        }).isInstanceOfSatisfying(MongoCommandException.class, e -> {
            assertThat(e.getErrorCode()).isEqualTo(262);
            assertThat(e.getErrorMessage()).contains("no longer holds");
        });
        assertThat(moving.find().into(new ArrayList<>())).as("a new query reads the new owner").hasSize(40);
    }

    @Test
    void shouldAnswerAMalformedMessageWithAnErrorAndCloseTheConnection() throws Exception {
        // An OP_MSG whose body claims more bytes than the message has.
        byte[] broken = opMsg(new byte[] {0, 100, 0, 0, 0, 16, 'a', 0, 1, 0, 0, 0, 0});
        try (Socket socket = new Socket("127.0.0.1", wire.port())) {
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(broken);
            Document reply = readReply(socket.getInputStream());
            assertThat(reply.get("ok", Number.class).doubleValue()).isZero();
            assertThat(reply.getInteger("code")).isEqualTo(9);
            assertThat(reply.getString("errmsg")).contains("overruns");
            assertThat(socket.getInputStream().read()).as("connection closed").isEqualTo(-1);
        }
        // A length that no message can have: the connection is closed without a reply.
        try (Socket socket = new Socket("127.0.0.1", wire.port())) {
            socket.setSoTimeout(5_000);
            OutputStream out = socket.getOutputStream();
            out.write(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(Integer.MAX_VALUE).array());
            assertThat(socket.getInputStream().read()).isEqualTo(-1);
        }
        assertThat(client.getDatabase("admin").runCommand(new Document("ping", 1))).as("the server carries on").isNotNull();
    }

    @Test
    void shouldRunARetriedWriteOnceAndAnswerTheRetryWithTheFirstReply() throws Exception {
        Document lsid = new Document("id", new org.bson.types.Binary(org.bson.BsonBinarySubType.UUID_STANDARD, new byte[16]));
        Document insert = new Document("insert", "users").append("documents", List.of(new Document("_id", "r1").append("tenantId", "t0")))
            .append("lsid", lsid).append("txnNumber", 1L).append("$db", database);
        Document increment = new Document("update", "users")
            .append("updates", List.of(new Document("q", new Document("_id", "r1")).append("u", new Document("$inc", new Document("c", 1)))))
            .append("lsid", lsid).append("txnNumber", 2L).append("$db", database);

        // Each write sent twice, on two connections, as a driver does when it lost the first reply.
        List<Document> replies = new ArrayList<>();
        for (Document command : List.of(insert, insert, increment, increment)) {
            try (Socket socket = new Socket("127.0.0.1", wire.port())) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write(opMsg(command));
                replies.add(readReply(socket.getInputStream()));
            }
        }
        Document tooOld;
        try (Socket socket = new Socket("127.0.0.1", wire.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(opMsg(insert));
            tooOld = readReply(socket.getInputStream());
        }

        assertThat(replies.get(1)).as("the retried insert").isEqualTo(replies.get(0));
        assertThat(replies.get(1)).doesNotContainKey("writeErrors");
        assertThat(replies.get(3)).as("the retried update").isEqualTo(replies.get(2));
        Document stored = users().find(Filters.eq("_id", "r1")).first();
        assertThat(stored.getInteger("c")).as("incremented once").isEqualTo(1);
        assertThat(tooOld.getInteger("code")).isEqualTo(225);

        client.getDatabase("admin").runCommand(new Document("endSessions", List.of(lsid)));
        try (Socket socket = new Socket("127.0.0.1", wire.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(opMsg(increment));
            Document anew = readReply(socket.getInputStream());
            assertThat(anew.get("nModified")).as("an ended session's write runs anew: %s", anew).isEqualTo(1);
            assertThat(anew.get("n")).as("n is an int32, as MongoDB answers").isInstanceOf(Integer.class);
        }
        users().deleteOne(Filters.eq("_id", "r1"));
    }

    @Test
    void shouldRunDriverTransactionsThatCommitAbortAndRetryOnTransientErrors() throws Exception {
        users().insertOne(new Document("_id", "tx-seat").append("tenantId", "t0").append("seats", 0));
        try (com.mongodb.client.ClientSession session = client.startSession()) {
            session.withTransaction(() -> {
                users().insertOne(session, new Document("_id", "tx1").append("tenantId", "t0"));
                users().updateOne(session, Filters.eq("_id", "tx-seat"), new Document("$inc", new Document("seats", 1)));
                assertThat(users().find(session, Filters.eq("_id", "tx1")).first()).as("its own insert").isNotNull();
                assertThat(users().countDocuments(Filters.eq("_id", "tx1"))).as("outside it, before the commit").isZero();
                return null;
            });
        }
        assertThat(users().countDocuments(Filters.eq("_id", "tx1"))).isEqualTo(1);

        try (com.mongodb.client.ClientSession session = client.startSession()) {
            assertThatThrownBy(() -> session.withTransaction(() -> {
                users().insertOne(session, new Document("_id", "tx2").append("tenantId", "t0"));
                throw new IllegalStateException("changed its mind");
            })).hasMessageContaining("changed its mind");
        }
        assertThat(users().countDocuments(Filters.eq("_id", "tx2"))).as("aborted").isZero();

        // An older transaction holds the document; the younger one's statement fails with TransientTransactionError and
        // the driver's withTransaction runs it again until it gets through, after the older one commits.
        try (com.mongodb.client.ClientSession older = client.startSession(); com.mongodb.client.ClientSession younger = client.startSession()) {
            older.startTransaction();
            users().updateOne(older, Filters.eq("_id", "tx-seat"), new Document("$inc", new Document("seats", 10)));
            java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.CompletableFuture<Void> retried = java.util.concurrent.CompletableFuture.runAsync(() -> younger.withTransaction(() -> {
                attempts.incrementAndGet();
                users().updateOne(younger, Filters.eq("_id", "tx-seat"), new Document("$inc", new Document("seats", 100)));
                return null;
            }));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (attempts.get() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            older.commitTransaction();
            retried.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(attempts.get()).as("run again after TransientTransactionError").isGreaterThanOrEqualTo(2);
        }
        assertThat(users().find(Filters.eq("_id", "tx-seat")).first().getInteger("seats")).isEqualTo(111);

        Document statement = new Document("find", users().getNamespace().getCollectionName()).append("lsid", new Document("id", new org.bson.types.Binary((byte) 4, new byte[16])))
            .append("txnNumber", 7L).append("autocommit", false);
        assertThatThrownBy(() -> client.getDatabase(users().getNamespace().getDatabaseName()).runCommand(statement))
            .isInstanceOfSatisfying(com.mongodb.MongoCommandException.class, e -> {
                assertThat(e.getErrorCode()).isEqualTo(251);
                assertThat(e.getErrorLabels()).contains("TransientTransactionError");
            });
        users().deleteMany(Filters.in("_id", List.of("tx1", "tx-seat")));
    }

    @Test
    void shouldRunWhatAnOdmSendsInsideADriverTransaction() {
        users().insertMany(List.of(new Document("_id", "odm-1").append("tenantId", "t0").append("plan", "free").append("logins", 1)
            .append("secret", "s"), new Document("_id", "odm-2").append("tenantId", "t0").append("plan", "free").append("logins", 5)));
        try (com.mongodb.client.ClientSession session = client.startSession()) {
            session.withTransaction(() -> {
                Document before = users().findOneAndUpdate(session, Filters.eq("_id", "odm-1"), Updates.inc("logins", 1));
                assertThat(before.getInteger("logins")).as("findOneAndUpdate answers the document before").isEqualTo(1);
                Document after = users().findOneAndUpdate(session, Filters.in("_id", List.of("odm-1", "odm-2")), Updates.set("plan", "pro"),
                    new com.mongodb.client.model.FindOneAndUpdateOptions().sort(Sorts.descending("logins"))
                        .returnDocument(com.mongodb.client.model.ReturnDocument.AFTER).projection(com.mongodb.client.model.Projections.include("plan")));
                assertThat(after).as("the first in its sort, after, projected").isEqualTo(new Document("_id", "odm-2").append("plan", "pro"));
                Document created = users().findOneAndUpdate(session, Filters.eq("_id", "odm-3"), Updates.combine(
                    Updates.setOnInsert("tenantId", "t0"), Updates.set("plan", "trial"), Updates.inc("logins", 1)),
                    new com.mongodb.client.model.FindOneAndUpdateOptions().upsert(true).returnDocument(com.mongodb.client.model.ReturnDocument.AFTER));
                assertThat(created).isEqualTo(new Document("_id", "odm-3").append("tenantId", "t0").append("plan", "trial").append("logins", 1));
                com.mongodb.client.result.UpdateResult upserted = users().updateOne(session, Filters.eq("_id", "odm-4"),
                    Updates.set("plan", "free"), new com.mongodb.client.model.UpdateOptions().upsert(true));
                assertThat(upserted.getUpsertedId()).as("an upsert's insert: %s", upserted).isNotNull();
                assertThat(users().countDocuments(session, Filters.eq("plan", "pro"))).as("countDocuments in it").isEqualTo(1);
                assertThat(users().countDocuments(session, Filters.regex("_id", "^odm-"), new com.mongodb.client.model.CountOptions().skip(1).limit(2)))
                    .isEqualTo(2);
                assertThat(users().find(session, Filters.eq("_id", "odm-1")).projection(com.mongodb.client.model.Projections.exclude("secret")).first())
                    .as("a projection in it").doesNotContainKey("secret").containsEntry("logins", 2);
                assertThat(users().findOneAndDelete(session, Filters.eq("_id", "odm-4"))).as("findOneAndDelete").containsEntry("plan", "free");
                assertThat(users().countDocuments(Filters.eq("_id", "odm-3"))).as("outside it, before the commit").isZero();
                return null;
            });
        }
        List<Document> stored = users().find(Filters.regex("_id", "^odm-")).sort(Sorts.ascending("_id")).into(new ArrayList<>());
        assertThat(stored).extracting(d -> d.get("_id") + " " + d.get("plan") + " " + d.get("logins"))
            .containsExactly("odm-1 free 2", "odm-2 pro 5", "odm-3 trial 1");

        try (com.mongodb.client.ClientSession session = client.startSession()) {
            session.startTransaction();
            users().updateOne(session, Filters.eq("_id", "odm-1"), Updates.inc("logins", 100));
            assertThatThrownBy(() -> users().aggregate(session, List.of(Aggregates.group("$plan", Accumulators.sum("n", 1)))).first())
                .as("a pipeline that is no count").isInstanceOfSatisfying(MongoCommandException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(263);
                    assertThat(e.getErrorMessage()).contains("aggregate.pipeline.0").contains("$group");
                });
            assertThatThrownBy(session::commitTransaction).as("the refused statement aborted it").isInstanceOf(MongoCommandException.class);
        }
        assertThat(users().find(Filters.eq("_id", "odm-1")).first().getInteger("logins")).as("nothing of the aborted one").isEqualTo(2);
        assertThat(users().deleteMany(Filters.regex("_id", "^odm-")).getDeletedCount()).as("a regex on _id pins no single document").isEqualTo(3);
    }

    @Test
    void shouldJudgeAnUpsertsOperatorsInsideATransactionAsTheShardDoesOutsideOne() {
        // Each update as an upsert that matches nothing: the code the shard answers it with outside a transaction (0: it
        // applies) is the code inside one, and what it inserts is the same.
        List<org.bson.conversions.Bson> updates = List.of(
            Updates.combine(Updates.set("plan", "a"), Updates.setOnInsert("plan", "b")),
            Updates.combine(Updates.set("trial.days", 3), Updates.setOnInsert("trial", new Document("days", 7))),
            Updates.combine(Updates.set("logins", 1), Updates.inc("logins", 1)),
            Updates.combine(Updates.set("plan", "x"), Updates.unset("plan")),
            Updates.combine(Updates.set("trial.days", 3), Updates.setOnInsert("trial.plan", "pro")),
            Updates.combine(Updates.setOnInsert("since", 2024), Updates.inc("logins", 2), Updates.set("plan", "pro")));
        List<Integer> outsideCodes = new ArrayList<>();
        for (int i = 0; i < updates.size(); i++) {
            org.bson.conversions.Bson update = updates.get(i);
            org.bson.conversions.Bson outsideFilter = Filters.and(Filters.eq("_id", "ups-out-" + i), Filters.eq("tier", "gold"));
            org.bson.conversions.Bson insideFilter = Filters.and(Filters.eq("_id", "ups-in-" + i), Filters.eq("tier", "gold"));
            Integer outside = upsertCode(() -> users().updateOne(outsideFilter, update, new com.mongodb.client.model.UpdateOptions().upsert(true)));
            Integer inside;
            try (com.mongodb.client.ClientSession session = client.startSession()) {
                session.startTransaction();
                inside = upsertCode(() -> users().updateOne(session, insideFilter, update, new com.mongodb.client.model.UpdateOptions().upsert(true)));
                if (inside == 0) {
                    session.commitTransaction();
                } else {
                    assertThatThrownBy(session::commitTransaction).as("a failed statement aborts the transaction").isInstanceOf(MongoCommandException.class);
                }
            }
            assertThat(inside).as("upsert %s: the code inside a transaction (0: applied)", update).isEqualTo(outside);
            outsideCodes.add(outside);
            Document storedOutside = users().find(Filters.eq("_id", "ups-out-" + i)).first();
            Document storedInside = users().find(Filters.eq("_id", "ups-in-" + i)).first();
            if (outside == 0) {
                storedOutside.remove("_id");
                storedInside.remove("_id");
                assertThat(storedInside).as("upsert %s: the document inserted", update).isEqualTo(storedOutside);
            } else {
                assertThat(storedInside).as("upsert %s: nothing inserted", update).isNull();
            }
        }
        assertThat(outsideCodes).as("the shard refuses some of them and applies others").contains(0, 40);
        users().deleteMany(Filters.regex("_id", "^ups-"));
    }

    @Test
    void shouldCheckATransactionsUpdateAgainstAUniqueIndexAsSoonAsItIsCreatedOrDroppedThroughTheRouter() {
        users().insertOne(new Document("_id", "uidx-1").append("tenantId", "t0").append("email", "a@acme.test"));
        try (com.mongodb.client.ClientSession session = client.startSession()) {
            // The router reads the namespace's unique indexes now, and would not read them again for 10 s on its own.
            session.withTransaction(() -> users().updateOne(session, Filters.eq("_id", "uidx-1"), Updates.set("email", "b@acme.test")));
        }
        users().createIndex(com.mongodb.client.model.Indexes.ascending("_id", "email"),
            new com.mongodb.client.model.IndexOptions().unique(true).name("id_email_unique"));
        try (com.mongodb.client.ClientSession session = client.startSession()) {
            session.startTransaction();
            assertThatThrownBy(() -> users().updateOne(session, Filters.eq("_id", "uidx-1"), Updates.set("email", "c@acme.test")))
                .isInstanceOfSatisfying(com.mongodb.MongoException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(2);
                    assertThat(e.getMessage()).contains("'email'").contains("id_email_unique");
                });
            session.abortTransaction();
        }
        users().dropIndex("id_email_unique");
        try (com.mongodb.client.ClientSession session = client.startSession()) {
            session.withTransaction(() -> users().updateOne(session, Filters.eq("_id", "uidx-1"), Updates.set("email", "d@acme.test")));
        }
        assertThat(users().find(Filters.eq("_id", "uidx-1")).first()).as("changed once the index is dropped").containsEntry("email", "d@acme.test");
        users().deleteOne(Filters.eq("_id", "uidx-1"));
    }

    /** The code of the error an upsert fails with, or 0 when it applies. */
    private static Integer upsertCode(Runnable upsert) {
        try {
            upsert.run();
            return 0;
        } catch (com.mongodb.MongoException e) {
            return e.getCode();
        }
    }

    /** An OP_MSG carrying {@code command} as its body. */
    private static byte[] opMsg(Document command) {
        org.bson.io.BasicOutputBuffer out = new org.bson.io.BasicOutputBuffer();
        out.writeByte(0);
        new org.bson.codecs.DocumentCodec().encode(new org.bson.BsonBinaryWriter(out), command,
            org.bson.codecs.EncoderContext.builder().build());
        return opMsg(out.toByteArray());
    }

    private static byte[] opMsg(byte[] sections) {
        ByteBuffer message = ByteBuffer.allocate(16 + 4 + sections.length).order(ByteOrder.LITTLE_ENDIAN);
        message.putInt(16 + 4 + sections.length).putInt(7).putInt(0).putInt(2013).putInt(0).put(sections);
        return message.array();
    }

    private static Document readReply(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        byte[] lengthBytes = new byte[4];
        data.readFully(lengthBytes);
        int length = ByteBuffer.wrap(lengthBytes).order(ByteOrder.LITTLE_ENDIAN).getInt();
        byte[] rest = new byte[length - 4];
        data.readFully(rest);
        // header (12 after the length) + flagBits (4) + section kind (1)
        ByteBuffer body = ByteBuffer.wrap(rest, 17, rest.length - 17).slice();
        return new org.bson.codecs.DocumentCodec().decode(new org.bson.BsonBinaryReader(body),
            org.bson.codecs.DecoderContext.builder().build());
    }
}
