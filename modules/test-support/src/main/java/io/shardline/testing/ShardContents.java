package io.shardline.testing;

import java.util.List;

import com.mongodb.client.MongoClient;

/** What a shard holds, counted by the shard itself: the ground truth tests compare derived figures with. */
public final class ShardContents {

    private static final List<String> SYSTEM_DATABASES = List.of("admin", "config", "local");

    private ShardContents() {
    }

    /** Data bytes of every non-system database, as the shard's {@code dbStats} reports them. */
    public static long dataBytes(MongoClient client) {
        long bytes = 0;
        for (String db : client.listDatabaseNames()) {
            if (!SYSTEM_DATABASES.contains(db)) {
                bytes += ((Number) client.getDatabase(db).runCommand(new org.bson.Document("dbStats", 1)).get("dataSize")).longValue();
            }
        }
        return bytes;
    }

    /** Documents in every collection of every non-system database. */
    public static long documentCount(MongoClient client) {
        long count = 0;
        for (String db : client.listDatabaseNames()) {
            if (SYSTEM_DATABASES.contains(db)) {
                continue;
            }
            for (String coll : client.getDatabase(db).listCollectionNames()) {
                count += client.getDatabase(db).getCollection(coll).countDocuments();
            }
        }
        return count;
    }
}
