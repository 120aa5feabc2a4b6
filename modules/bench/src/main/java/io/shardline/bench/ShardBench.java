package io.shardline.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.bson.BsonDocument;
import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.shardline.shard.EmbeddedShard;
import io.shardline.shard.EmbeddedShardConfig;

/**
 * The embedded shard against stock mongo-java-server (memory backend, its own oplog on), side by side through
 * the same driver: inserts/s and updates/s (ratio = what the faithful oplog costs), then the shard's live
 * change events/s and its catch-up rate over a 200k-event backlog.
 */
final class ShardBench {

    private final int inserts;
    private final int updates;
    private final int backlog;

    ShardBench(double scale) {
        this.inserts = BenchMain.scaled(100_000, scale);
        this.updates = BenchMain.scaled(20_000, scale);
        this.backlog = BenchMain.scaled(200_000, scale);
    }

    List<String> run() throws Exception {
        List<String> lines = new ArrayList<>();
        MongoServer stock = new MongoServer(new MemoryBackend());
        String stockUri = stock.bindAndGetConnectionString();
        stock.enableOplog();
        try (EmbeddedShard shard = EmbeddedShard.start("bench", EmbeddedShardConfig.defaults("bench").withOplogRetentionEntries(backlog + inserts + updates + 10));
             MongoClient shardClient = MongoClients.create(shard.connectionString());
             MongoClient stockClient = MongoClients.create(stockUri)) {
            MongoCollection<Document> shardColl = shardClient.getDatabase("bench").getCollection("users");
            MongoCollection<Document> stockColl = stockClient.getDatabase("bench").getCollection("users");

            warmUp(shardColl);
            warmUp(stockColl);
            double shardInserts = 0;
            double stockInserts = 0;
            for (int round = 0; round < 3; round++) {
                stockInserts = Math.max(stockInserts, insertRate(stockColl, inserts, "r" + round + "-"));
                shardInserts = Math.max(shardInserts, insertRate(shardColl, inserts, "r" + round + "-"));
            }
            lines.add(String.format("shard.inserts_per_s=%.0f stock.inserts_per_s=%.0f ratio=%.2f (n=%d, insertMany batches of 1000, best of 3 alternating rounds)",
                shardInserts, stockInserts, shardInserts / stockInserts, inserts));

            // Alternate the two servers and keep each one's best round, so JIT warm-up and a noisy neighbour
            // do not favour whichever runs second.
            double shardUpdates = 0;
            double stockUpdates = 0;
            for (int round = 0; round < 3; round++) {
                stockUpdates = Math.max(stockUpdates, updateRate(stockColl, updates));
                shardUpdates = Math.max(shardUpdates, updateRate(shardColl, updates));
            }
            lines.add(String.format("shard.updates_per_s=%.0f stock.updates_per_s=%.0f ratio=%.2f (n=%d, updateOne by _id, best of 3 alternating rounds)",
                shardUpdates, stockUpdates, shardUpdates / stockUpdates, updates));

            lines.add(String.format("shard.live_change_events_per_s=%.0f (watching while %d documents are inserted)",
                liveEventRate(shardClient, inserts), inserts));
            lines.add(String.format("shard.catch_up_events_per_s=%.0f (resuming over a backlog of %d events, fullDocument=updateLookup)",
                catchUpRate(shardClient, backlog), backlog));
        } finally {
            stock.shutdownNow();
        }
        return lines;
    }

    private static void warmUp(MongoCollection<Document> coll) {
        List<Document> docs = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            docs.add(new Document("_id", "warm-" + i).append("n", i));
        }
        coll.insertMany(docs);
        for (int i = 0; i < docs.size(); i++) {
            coll.updateOne(Filters.eq("_id", "warm-" + i), Updates.inc("n", 1));
        }
        coll.deleteMany(Filters.regex("_id", "^warm-"));
    }

    private static double insertRate(MongoCollection<Document> coll, int count, String idPrefix) {
        long start = System.nanoTime();
        List<Document> batch = new ArrayList<>(1000);
        for (int i = 0; i < count; i++) {
            batch.add(user(idPrefix + i, i));
            if (batch.size() == 1000) {
                coll.insertMany(batch);
                batch = new ArrayList<>(1000);
            }
        }
        if (!batch.isEmpty()) {
            coll.insertMany(batch);
        }
        return perSecond(count, System.nanoTime() - start);
    }

    private static double updateRate(MongoCollection<Document> coll, int count) {
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            coll.updateOne(Filters.eq("_id", "r0-" + i), Updates.inc("logins", 1));
        }
        return perSecond(count, System.nanoTime() - start);
    }

    private static double liveEventRate(MongoClient client, int count) throws InterruptedException {
        MongoCollection<Document> coll = client.getDatabase("bench").getCollection("live");
        try (MongoCursor<BsonDocument> cursor = client.getDatabase("bench").getCollection("live").watch()
            .batchSize(1000).withDocumentClass(BsonDocument.class).cursor()) {
            Thread writer = new Thread(() -> insertRate(coll, count, "live-"));
            long start = System.nanoTime();
            writer.start();
            int seen = 0;
            while (seen < count) {
                if (cursor.tryNext() != null) {
                    seen++;
                }
            }
            long elapsed = System.nanoTime() - start;
            writer.join();
            return perSecond(count, elapsed);
        }
    }

    private static double catchUpRate(MongoClient client, int count) {
        MongoCollection<Document> coll = client.getDatabase("bench").getCollection("backlog");
        org.bson.BsonTimestamp before = client.getDatabase("bench").runCommand(new Document("ping", 1))
            .get("operationTime", org.bson.BsonTimestamp.class);
        insertRate(coll, count, "backlog-");
        long start = System.nanoTime();
        try (MongoCursor<BsonDocument> cursor = coll.watch().startAtOperationTime(before)
            .fullDocument(com.mongodb.client.model.changestream.FullDocument.UPDATE_LOOKUP)
            .batchSize(1000).withDocumentClass(BsonDocument.class).cursor()) {
            int seen = 0;
            while (seen < count) {
                if (cursor.tryNext() != null) {
                    seen++;
                }
            }
        }
        return perSecond(count, System.nanoTime() - start);
    }

    static Document user(String id, int i) {
        return new Document("_id", id).append("tenantId", "tenant-" + (i % 50)).append("email", id + "@example.com")
            .append("name", "User " + i).append("roles", List.of("user")).append("logins", 0);
    }

    static double perSecond(long count, long nanos) {
        return count / (nanos / (double) TimeUnit.SECONDS.toNanos(1));
    }
}
