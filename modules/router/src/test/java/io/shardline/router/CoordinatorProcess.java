package io.shardline.router;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.bson.Document;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.router.api.Scope;
import io.shardline.router.api.Transaction;
import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.TxnRecord;
import io.shardline.schemas.avro.TxnState;

/**
 * A router in a JVM of its own that coordinates one transaction up to a step and then waits to be killed
 * ({@link TransactionCrashIT} sends it SIGKILL). The transaction inserts a document in one namespace and updates one
 * in another, on different shards. Steps:
 * <ul>
 *   <li>{@code one-prepared}: the insert's intent is written, the update's not;</li>
 *   <li>{@code all-prepared}: both intents are written, nothing decided;</li>
 *   <li>{@code decided}: the COMMITTED decision is on the coordinator log, no intent resolved;</li>
 *   <li>{@code resolving}: decided, and the update's intent resolved on its shard, the insert's not.</li>
 * </ul>
 * The last two write the decision (and resolve the one intent) the way the router's commit does, so that the state it
 * leaves is the one a coordinator killed between those steps of its commit leaves.
 */
public final class CoordinatorProcess {

    static final String AT = "COORDINATOR_AT ";

    private CoordinatorProcess() {
    }

    /** Arguments: bootstrap servers, registry URL, topic prefix, step, users namespace, audit namespace, user id, audit id, shard URI of the user. */
    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        TopicCatalog catalog = new TopicCatalog(args[2], new RegistrySerdes(args[1]));
        String step = args[3];
        String users = args[4];
        String audit = args[5];
        String userId = args[6];
        String auditId = args[7];
        ShardRouter router = ShardRouter.start(RouterConfig.defaults(bootstrap, catalog), new SimpleMeterRegistry(), Duration.ofSeconds(60));
        Transaction tx = router.begin(Scope.tenant("acme"));
        tx.insert(audit, List.of(new Document("_id", auditId).append("event", "plan changed")));
        if (!step.equals("one-prepared")) {
            tx.update(users, new Document("_id", userId), new Document("$set", new Document("plan", "paid")), false);
        }
        if (step.equals("decided") || step.equals("resolving")) {
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(KafkaClients.fromEnvironment(bootstrap).producer(java.util.Map.of()),
                Serdes.String().serializer(), Serdes.ByteArray().serializer())) {
                TxnRecord decision = TxnRecord.newBuilder().setTxnId(tx.id()).setState(TxnState.COMMITTED).setRouterId(router.routerId())
                    .setNamespaces(List.of(audit, users)).setPriority(Instant.now()).setTimestamp(Instant.now()).build();
                producer.send(new ProducerRecord<>(catalog.txn().name(), tx.id(), catalog.txn().valueSerde().serializer()
                    .serialize(catalog.txn().name(), decision))).get();
            }
        }
        if (step.equals("resolving")) {
            String[] namespace = users.split("\\.", 2);
            try (MongoClient shard = MongoClients.create(args[8])) {
                var collection = shard.getDatabase(namespace[0]).getCollection(namespace[1]);
                Document stored = collection.find(new Document("_id", userId)).first();
                Document next = new Document((Document) ((Document) stored.get("_tx")).get("new"));
                next.put("_sk", stored.get("_sk"));
                collection.replaceOne(new Document("_id", userId).append("_tx.id", tx.id()), next);
            }
        }
        System.out.println(AT + step + " " + tx.id());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
