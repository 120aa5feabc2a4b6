package io.shardline.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.Scope;
import io.shardline.router.api.Transaction;
import io.shardline.schemas.DeadLetterHeaders;
import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.TxnRecord;
import io.shardline.schemas.avro.TxnState;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.CdcTopics;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * Restores to moments at which cross-shard transactions held documents on s1: one decided only after its moment, one
 * decided (COMMITTED on the coordinator log) before its moment but not yet resolved on the shard, one still open when
 * the restore runs. Each restored shard must hold the documents as the transactions stood at the moment: the first's
 * update, delete, insert and read as if it had not run, the second's as committed, and the third's intent kept, for the
 * routers to resolve from the log; a record on the decisions topic that is no decision is dead-lettered with its origin.
 */
@ShardlineCluster
class TransactionRestoreIT {

    @TempDir
    Path backups;

    @Test
    void shouldLeaveEveryDocumentATransactionHeldAsTheTransactionStoodAtTheMoment(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (BackupFixture fixture = new BackupFixture(cluster, names)) {
            ClusterBackups clusterBackups = fixture.backups(backups);
            String ns = fixture.namespace;
            Map<String, Document> state = new HashMap<>();
            int value = 1;
            for (String id : List.of("a", "b", "c", "d", "g", "h", "i")) {
                Document document = BackupFixture.document(id, value++);
                fixture.router.insert(BackupFixture.TENANT, ns, List.of(new Document(document)));
                state.put(id, document);
            }
            Map<String, Document> before = new HashMap<>(state);

            // Decided after its moment: committed, but not at the moment.
            Transaction later = fixture.router.begin(Scope.tenant(BackupFixture.TENANT));
            statements(later, ns, "a", "b", "e", "c", 101);
            long laterMoment = pause();
            fixture.router.commit(later);
            awaitNoIntents(fixture, ns);
            applied(state, "a", "b", "e", 101);

            // Decided before its moment: COMMITTED on the log while its intents are still on the shard.
            Transaction decided = fixture.router.begin(Scope.tenant(BackupFixture.TENANT));
            statements(decided, ns, "d", "g", "f", "h", 102);
            decideCommitted(fixture, decided, ns);
            long decidedMoment = pause();
            fixture.router.commit(decided);
            awaitNoIntents(fixture, ns);
            applied(state, "d", "g", "f", 102);
            Map<String, Document> afterDecided = new HashMap<>(state);

            // Still open when the restore runs.
            Transaction open = fixture.router.begin(Scope.tenant(BackupFixture.TENANT));
            open.update(ns, key("i"), new Document("$set", new Document("v", 103)), false);
            long openMoment = pause();

            String cdc = TopicCatalog.cdcTopic("s1", ns);
            CdcTopics.awaitSettled(cluster.bootstrapServers(), cdc);
            awaitDecisionsKept(fixture, 2);

            ShardRestore.NamespaceResult atLater = restore(clusterBackups, ns, laterMoment, before, "a transaction decided after the moment");
            assertThat(atLater.intentsResolved()).as("a, b, e and c held").isEqualTo(4);
            assertThat(atLater.intentsKept()).isZero();

            ShardRestore.NamespaceResult atDecided = restore(clusterBackups, ns, decidedMoment, afterDecided,
                "a transaction committed before the moment, resolved after it");
            assertThat(atDecided.intentsResolved()).as("d, g, f and h held").isEqualTo(4);

            // A record on the decisions topic that is no decision: dead-lettered, and the intent it names kept.
            try (KafkaProducer<String, byte[]> producer = producer(fixture)) {
                producer.send(new ProducerRecord<>(fixture.catalog.txnDecisions().name(), open.id(), "not an avro record".getBytes())).get();
            }
            Map<String, Document> held = new HashMap<>(afterDecided);
            try (EmbeddedShard fresh = EmbeddedShard.start("restore-open")) {
                ShardRestore.Result result = clusterBackups.restore(new ShardRestore.Request("s1", openMoment, null, List.of(ns), fresh.connectionString(), false));
                Map<String, Document> restored = BackupFixture.contents(fresh.connectionString(), ns);
                Document intent = (Document) restored.get("i").remove("_tx");
                assertThat(intent).as("the open transaction's intent is kept").isNotNull();
                assertThat(intent.getString("id")).isEqualTo(open.id());
                assertThat(restored).as("restored to %s", Instant.ofEpochMilli(openMoment)).isEqualTo(held);
                assertThat(result.namespaces().get(0).intentsKept()).isEqualTo(1);
            }
            fixture.router.abort(open);
            assertThat(deadLetterFields(fixture)).as("the unreadable decision record, dead-lettered with its origin").contains("value");
        }
    }

    /** An update, a delete, an insert and a read, each on its own document. */
    private static void statements(Transaction tx, String ns, String updated, String deleted, String inserted, String read, int newValue) {
        assertThat(tx.update(ns, key(updated), new Document("$set", new Document("v", newValue)), false)).isEqualTo(1);
        assertThat(tx.delete(ns, key(deleted), false)).isEqualTo(1);
        tx.insert(ns, List.of(BackupFixture.document(inserted, 5)));
        assertThat(tx.find(ns, key(read))).hasSize(1);
    }

    /** What {@link #statements} leave once committed. */
    private static void applied(Map<String, Document> state, String updated, String deleted, String inserted, int newValue) {
        state.put(updated, new Document(state.get(updated)).append("v", newValue));
        state.remove(deleted);
        state.put(inserted, BackupFixture.document(inserted, 5));
    }

    private static Document key(String id) {
        return new Document("_id", id).append("userId", id);
    }

    /** A moment strictly between what was written before the call and what is written after it. */
    private static long pause() throws InterruptedException {
        Thread.sleep(30);
        long moment = System.currentTimeMillis();
        Thread.sleep(30);
        return moment;
    }

    /** Writes the transaction's COMMITTED decision on the coordinator log, as a router that decided it would. */
    private static void decideCommitted(BackupFixture fixture, Transaction tx, String ns) throws Exception {
        try (KafkaProducer<String, byte[]> producer = producer(fixture)) {
            TxnRecord decision = TxnRecord.newBuilder().setTxnId(tx.id()).setState(TxnState.COMMITTED).setRouterId("coordinator-of-the-test")
                .setNamespaces(List.of(ns)).setPriority(Instant.now()).setTimestamp(Instant.now()).build();
            producer.send(new ProducerRecord<>(fixture.catalog.txn().name(), tx.id(), fixture.catalog.txn().valueSerde().serializer()
                .serialize(fixture.catalog.txn().name(), decision))).get();
        }
    }

    private static KafkaProducer<String, byte[]> producer(BackupFixture fixture) {
        return new KafkaProducer<>(KafkaClients.fromEnvironment(fixture.cluster.bootstrapServers()).producer(Map.of()), Serdes.String().serializer(),
            Serdes.ByteArray().serializer());
    }

    /** The fields named by the control plane's dead letters that came from the decisions topic. */
    private static List<String> deadLetterFields(BackupFixture fixture) throws InterruptedException {
        TopicPartition partition = new TopicPartition(fixture.catalog.controlDlq().name(), 0);
        List<String> fields = new java.util.ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        try (var reader = KafkaClients.fromEnvironment(fixture.cluster.bootstrapServers()).bytesReader(null, Map.of())) {
            reader.assign(List.of(partition));
            reader.seekToBeginning(List.of(partition));
            while (fields.isEmpty() && System.nanoTime() < deadline) {
                for (var letter : reader.poll(Duration.ofMillis(200))) {
                    if (fixture.catalog.txnDecisions().name().equals(header(letter, DeadLetterHeaders.SOURCE_TOPIC))) {
                        fields.add(header(letter, DeadLetterHeaders.FIELD));
                    }
                }
            }
        }
        return fields;
    }

    private static String header(org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]> record, String name) {
        org.apache.kafka.common.header.Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static ShardRestore.NamespaceResult restore(ClusterBackups backups, String ns, long moment, Map<String, Document> expected, String what) {
        try (EmbeddedShard fresh = EmbeddedShard.start("restore-" + moment)) {
            ShardRestore.Result result = backups.restore(new ShardRestore.Request("s1", moment, null, List.of(ns), fresh.connectionString(), false));
            assertThat(BackupFixture.contents(fresh.connectionString(), ns)).as("%s: restored to %s", what, Instant.ofEpochMilli(moment))
                .isEqualTo(expected);
            return result.namespaces().get(0);
        }
    }

    private static void awaitNoIntents(BackupFixture fixture, String ns) throws InterruptedException {
        int dot = ns.indexOf('.');
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        try (MongoClient shard = MongoClients.create(fixture.cluster.shards().get("s1").connectionString())) {
            while (shard.getDatabase(ns.substring(0, dot)).getCollection(ns.substring(dot + 1)).countDocuments(new Document("_tx", new Document("$exists", true))) > 0) {
                assertThat(System.nanoTime()).as("the intents resolved").isLessThan(deadline);
                Thread.sleep(50);
            }
        }
    }

    private static void awaitDecisionsKept(BackupFixture fixture, long records) throws InterruptedException {
        TopicPartition partition = new TopicPartition(fixture.catalog.txnDecisions().name(), 0);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        try (var reader = KafkaClients.fromEnvironment(fixture.cluster.bootstrapServers()).bytesReader(null, Map.of())) {
            while (reader.endOffsets(List.of(partition)).get(partition) < records) {
                assertThat(System.nanoTime()).as("both decisions kept on %s", partition).isLessThan(deadline);
                Thread.sleep(100);
            }
        }
    }
}
