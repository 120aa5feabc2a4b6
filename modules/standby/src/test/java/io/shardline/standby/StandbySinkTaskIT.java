package io.shardline.standby;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.IndexOptions;
import com.mongodb.client.model.Indexes;

import io.shardline.backup.ChangeRecord;
import io.shardline.shard.EmbeddedShard;

/**
 * The standby's task on its own, against a real embedded shard as the standby: Debezium-shaped records of every kind,
 * applied in order per namespace, what cannot be applied reported to Connect's errant record reporter, progress kept
 * on the standby, a replay changing nothing, and a standby that does not answer making Connect retry.
 */
class StandbySinkTaskIT {

    private static final String USERS = "app.users";
    private static final String AUDIT = "app.audit.entries";

    private final CdcRecords cdc = new CdcRecords("s1");
    private EmbeddedShard shard;
    private MongoClient standby;
    private final List<StandbySinkTask> tasks = new ArrayList<>();

    @BeforeEach
    void startStandby() {
        shard = EmbeddedShard.start("standby-of-s1");
        standby = MongoClients.create(shard.connectionString());
    }

    @AfterEach
    void stopAll() {
        tasks.forEach(StandbySinkTask::stop);
        standby.close();
        shard.close();
    }

    @Test
    void shouldApplyEveryKindOfChangeInOrderReportWhatItCannotAndConvergeOnReplay() {
        // A unique index the shard's documents must keep: the standby refuses a second user with one email.
        standby.getDatabase("app").getCollection("users").createIndex(Indexes.ascending("email"), new IndexOptions().unique(true).sparse(true));
        RecordingContext context = new RecordingContext(Map.of(), true);
        StandbySinkTask task = started(context, shard.connectionString());
        Document marker = new Document("_id", "m1").append(ChangeRecord.MARKER_FIELD, "backup-1");
        List<SinkRecord> batch = List.of(
            cdc.change(USERS, 0, "r", new Document("_id", "u1").append("name", "Ann")),
            cdc.change(USERS, 1, "c", new Document("_id", "u2").append("name", "Bob")),
            cdc.change(AUDIT, 0, "c", new Document("_id", "a1").append("what", "login")),
            cdc.change(USERS, 2, "u", new Document("_id", "u1").append("name", "Ann B").append("tags", List.of("x"))),
            cdc.delete(USERS, 3, new BsonString("u2")),
            cdc.change(USERS, 4, "c", new Document("_id", "u3").append("name", "Cy")),
            cdc.updateWithoutImage(USERS, 5, new BsonString("u3")),
            cdc.record(USERS, 6, CdcRecords.key(new BsonString("u9")), "{\"after\": null, \"source\": {}}".getBytes(StandardCharsets.UTF_8)),
            cdc.change(AUDIT, 1, "c", new Document("_id", "a2").append("what", "logout")),
            cdc.change(USERS, 7, "c", marker),
            cdc.change(USERS, 8, "c", new Document("_id", 7L).append("name", "Number")),
            cdc.tombstone(USERS, 9, new BsonString("u2")),
            cdc.change(USERS, 10, "c", new Document("_id", "u4").append("email", "x@example.com")),
            cdc.change(USERS, 11, "c", new Document("_id", "u5").append("email", "x@example.com")),
            cdc.change(USERS, 12, "c", new Document("_id", "u6").append("name", "Di")),
            cdc.delete(AUDIT, 2, new BsonString("a1")),
            cdc.record(AUDIT, 3, "not json".getBytes(StandardCharsets.UTF_8), cdc.envelope(AUDIT, "d", null)),
            // Debezium's key writes the NumberLong 7 as the plain number 7: the delete still finds the document.
            cdc.delete(USERS, 13, new BsonInt64(7)));

        task.put(batch);
        List<Document> users = documents(USERS);
        List<Document> audit = documents(AUDIT);
        Map<String, Long> applied = StandbyProgress.applied(standby);
        List<RecordingContext.Report> reports = List.copyOf(context.reports);
        task.put(batch);

        assertThat(users).containsExactlyInAnyOrder(
            new Document("_id", "u1").append("name", "Ann B").append("tags", List.of("x")),
            new Document("_id", "u3").append("name", "Cy"),
            marker,
            new Document("_id", "u4").append("email", "x@example.com"),
            new Document("_id", "u6").append("name", "Di"));
        assertThat(audit).containsExactly(new Document("_id", "a2").append("what", "logout"));
        assertThat(applied).containsExactlyInAnyOrderEntriesOf(Map.of(cdc.topic(USERS), 13L, cdc.topic(AUDIT), 3L));
        assertThat(StandbyProgress.reported(standby)).containsExactlyInAnyOrderEntriesOf(Map.of(cdc.topic(USERS), 11L, cdc.topic(AUDIT), 3L));
        assertThat(standby.getDatabase(StandbyProgress.DATABASE).getCollection(StandbyProgress.COLLECTION).find(new Document("_id", USERS)).first())
            .containsEntry("topic", cdc.topic(USERS)).containsEntry("offset", 13L).containsKey("appliedAt");
        assertThat(reports).extracting(report -> report.record().topic() + "@" + report.record().kafkaOffset())
            .containsExactly(cdc.topic(USERS) + "@6", cdc.topic(USERS) + "@11", cdc.topic(AUDIT) + "@3");
        assertThat(reports.get(0).error()).hasMessageStartingWith("value.op: missing");
        assertThat(reports.get(1).error()).hasMessageStartingWith("value.after: the standby refused the document {\"_id\": \"u5\"} of app.users (11000");
        Document usersProgress = standby.getDatabase(StandbyProgress.DATABASE).getCollection(StandbyProgress.COLLECTION).find(new Document("_id", USERS)).first();
        assertThat(usersProgress.getList(StandbyProgress.REFUSED_CLUSTER_TIMES, Long.class)).as("the refused u5's cluster time: passed, not held")
            .hasSize(1).allSatisfy(time -> assertThat(time).isLessThan(usersProgress.getLong(StandbyProgress.CLUSTER_TIME)));
        assertThat(reports.get(2).error()).hasMessageStartingWith("key: not JSON");

        // The same batch again, as Connect hands it over after a failure: the same documents, the same progress, no
        // second report.
        assertThat(documents(USERS)).containsExactlyInAnyOrderElementsOf(users);
        assertThat(documents(AUDIT)).containsExactlyElementsOf(audit);
        assertThat(StandbyProgress.applied(standby)).isEqualTo(applied);
        assertThat(context.reports).hasSize(3);
    }

    @Test
    void shouldFindTheDocumentABulkWriteFailedOnWithoutNamingItAndApplyTheRecordsAroundIt() {
        RecordingContext context = new RecordingContext(Map.of(), true);
        StandbySinkTask task = started(context, shard.connectionString());
        // A top-level field named with a dollar, which a replacement may not hold: the bulk write fails without naming it.
        byte[] dollarField = cdc.envelope(USERS, "c", "{\"_id\": \"u7\", \"$bad\": 1}");

        task.put(List.of(
            cdc.change(USERS, 0, "c", new Document("_id", "u1").append("n", 1)),
            cdc.delete(USERS, 1, new BsonString("u0")),
            cdc.record(USERS, 2, CdcRecords.key(new BsonString("u7")), dollarField),
            cdc.change(USERS, 3, "c", new Document("_id", "u8")),
            cdc.change(USERS, 4, "u", new Document("_id", "u1").append("n", 2))));

        assertThat(context.reports).singleElement().satisfies(report -> {
            assertThat(report.record().kafkaOffset()).isEqualTo(2);
            assertThat(report.error()).hasMessageStartingWith("value.after: the standby refused the document {\"_id\": \"u7\"} of app.users");
        });
        assertThat(documents(USERS)).containsExactlyInAnyOrder(new Document("_id", "u1").append("n", 2), new Document("_id", "u8"));
        assertThat(StandbyProgress.applied(standby)).containsExactlyEntriesOf(Map.of(cdc.topic(USERS), 4L));
        assertThat(StandbyProgress.reported(standby)).containsExactlyEntriesOf(Map.of(cdc.topic(USERS), 2L));
    }

    @Test
    void shouldReportRecordsOfAnotherShardOrPartitionNamingTheTopicOrPartition() {
        RecordingContext context = new RecordingContext(Map.of(), true);
        StandbySinkTask task = started(context, shard.connectionString());
        SinkRecord otherShard = new CdcRecords("s2").change(USERS, 0, "c", new Document("_id", "u1"));
        SinkRecord otherPartition = new SinkRecord(cdc.topic(USERS), 1, null, CdcRecords.key(new BsonString("u1")), null,
            cdc.envelope(USERS, "d", null), 0);

        task.put(List.of(otherShard, otherPartition, cdc.change(USERS, 0, "c", new Document("_id", "u2"))));

        assertThat(context.reports).extracting(report -> report.error().getMessage())
            .satisfiesExactly(message -> assertThat(message).startsWith("topic: 'cdc.s2.app.users' is not a CDC topic of shard s1"),
                message -> assertThat(message).startsWith("partition: 1"));
        assertThat(documents(USERS)).containsExactly(new Document("_id", "u2"));
        assertThat(StandbyProgress.applied(standby)).containsExactlyEntriesOf(Map.of(cdc.topic(USERS), 0L));
    }

    @Test
    void shouldStopOnARecordItCannotApplyWhenThereIsNoDeadLetterTopic() {
        StandbySinkTask task = started(new RecordingContext(Map.of(), false), shard.connectionString());
        SinkRecord unreadable = cdc.record(USERS, 0, CdcRecords.key(new BsonString("u1")), cdc.envelope(USERS, "x", null));

        assertThatThrownBy(() -> task.put(List.of(unreadable))).isInstanceOf(ConnectException.class).isNotInstanceOf(RetriableException.class)
            .hasMessageStartingWith("value.op: 'x' is none of c, u, r, d").hasMessageContaining("errors.deadletterqueue.topic.name");
        assertThat(StandbyProgress.applied(standby)).isEmpty();
    }

    @Test
    void shouldStopWhenTheRecordsDidNotGoThroughTheByteArrayConverter() {
        StandbySinkTask task = started(new RecordingContext(Map.of(), true), shard.connectionString());
        SinkRecord converted = new SinkRecord(cdc.topic(USERS), 0, null, Map.of("id", "\"u1\""), null, Map.of("op", "d"), 0);

        assertThatThrownBy(() -> task.put(List.of(converted))).isInstanceOf(ConnectException.class)
            .hasMessageStartingWith("key.converter: must be " + StandbySinkConnector.BYTE_ARRAY_CONVERTER);
    }

    @Test
    void shouldApplyNothingOnceTheStandbyIsPromoted() {
        StandbySinkTask task = started(new RecordingContext(Map.of(), true), shard.connectionString());
        task.put(List.of(cdc.change(USERS, 0, "c", new Document("_id", "u1").append("v", 1))));
        StandbyProgress.markPromoted(standby);

        // The promoted shard's own changes, captured from it: applying them back could overwrite newer writes.
        task.put(List.of(cdc.change(USERS, 1, "u", new Document("_id", "u1").append("v", 0)), cdc.change(USERS, 2, "c", new Document("_id", "u2"))));

        assertThat(standby.getDatabase("app").getCollection("users").find().into(new ArrayList<>()))
            .containsExactly(new Document("_id", "u1").append("v", 1));
        assertThat(StandbyProgress.applied(standby)).containsEntry(cdc.topic(USERS), 0L);
        assertThat(StandbyProgress.promoted(standby)).isTrue();
        StandbyProgress.clear(standby);
        assertThat(StandbyProgress.promoted(standby)).as("a standby seeded anew").isFalse();
    }

    @Test
    void shouldAskConnectToRetryWhileTheStandbyDoesNotAnswerAndApplyOnceItDoes() {
        RecordingContext context = new RecordingContext(Map.of(), true);
        // The connection string's own timeout applies: a standby that does not answer is given up on after half a second.
        StandbySinkTask task = started(context, shard.connectionString() + "&serverSelectionTimeoutMS=500");
        List<SinkRecord> batch = List.of(cdc.change(USERS, 0, "c", new Document("_id", "u1").append("name", "Ann")));
        shard.stopAnswering();

        long began = System.nanoTime();
        assertThatThrownBy(() -> task.put(batch)).isInstanceOf(RetriableException.class).hasMessageContaining("reading whether the standby was promoted failed");
        long waitedMillis = (System.nanoTime() - began) / 1_000_000;
        shard.answerAgain();
        task.put(batch);

        assertThat(waitedMillis).as("the connection string's server selection timeout").isLessThan(5_000);
        assertThat(context.timeouts).containsExactly(StandbySinkTask.RETRY_BACKOFF_MS);
        assertThat(context.reports).isEmpty();
        assertThat(documents(USERS)).containsExactly(new Document("_id", "u1").append("name", "Ann"));
        assertThat(StandbyProgress.applied(standby)).containsExactlyEntriesOf(Map.of(cdc.topic(USERS), 0L));
    }

    @Test
    void shouldRecordOffsetsSetThroughConnectOnTheStandby() {
        started(new RecordingContext(Map.of(), true), shard.connectionString()).put(List.of(
            cdc.change(USERS, 0, "c", new Document("_id", "u1")), cdc.change(AUDIT, 0, "c", new Document("_id", "a1"))));
        Map<String, String> config = StandbySinkConnector.config("s1", shard.connectionString(), "dlq");
        Map<TopicPartition, Long> offsets = new HashMap<>();
        offsets.put(new TopicPartition(cdc.topic(USERS), 0), 42L);
        offsets.put(new TopicPartition(cdc.topic(AUDIT), 0), null);
        offsets.put(new TopicPartition(cdc.topic("app.sessions"), 0), 0L);

        boolean handled = new StandbySinkConnector().alterOffsets(config, offsets);

        assertThat(handled).isTrue();
        assertThat(StandbyProgress.applied(standby)).containsExactlyInAnyOrderEntriesOf(Map.of(cdc.topic(USERS), 41L, cdc.topic("app.sessions"), -1L));
        assertThatThrownBy(() -> new StandbySinkConnector().alterOffsets(config, Map.of(new TopicPartition("cdc.s2.app.users", 0), 5L)))
            .isInstanceOf(ConnectException.class).hasMessageStartingWith("topic: 'cdc.s2.app.users' is not a CDC topic of shard s1");
        assertThat(StandbyProgress.applied(standby)).doesNotContainKey("cdc.s2.app.users");
    }

    private StandbySinkTask started(RecordingContext context, String uri) {
        StandbySinkTask task = new StandbySinkTask();
        task.initialize(context);
        task.start(StandbySinkConnector.config("s1", uri, "dlq"));
        tasks.add(task);
        return task;
    }

    private List<Document> documents(String namespace) {
        return standby.getDatabase(namespace.substring(0, namespace.indexOf('.'))).getCollection(namespace.substring(namespace.indexOf('.') + 1))
            .find().into(new ArrayList<>());
    }
}
