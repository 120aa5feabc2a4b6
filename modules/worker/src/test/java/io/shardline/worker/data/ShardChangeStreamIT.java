package io.shardline.worker.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;

import io.shardline.shard.EmbeddedShard;

/** The shard's own change stream the fence drains, on a real embedded shard through the MongoDB driver. */
class ShardChangeStreamIT {

    private static EmbeddedShard shard;
    private static MongoClient client;

    @BeforeAll
    static void start() {
        shard = EmbeddedShard.start("change-stream");
        client = MongoClients.create(shard.connectionString());
    }

    @AfterAll
    static void stop() {
        client.close();
        shard.close();
    }

    private static RawBsonDocument document(String id, int value) {
        return RawBsonDocument.parse(new BsonDocument("_id", new BsonString(id)).append("v", new BsonInt32(value)).toJson());
    }

    private static List<BsonValue> pollUntil(ShardChangeStream stream, int count) {
        List<BsonValue> ids = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (ids.size() < count && System.nanoTime() < deadline) {
            stream.poll(Duration.ofMillis(50)).forEach(change -> ids.add(change.id()));
        }
        return ids;
    }

    @Test
    void shouldTellEveryDocumentWrittenAfterItOpenedAndNothingBefore() {
        MongoCollection<RawBsonDocument> collection = client.getDatabase("stream").getCollection("crud", RawBsonDocument.class);
        collection.insertOne(document("before", 0));
        try (ShardChangeStream stream = ShardChangeStream.open(collection)) {
            collection.insertOne(document("a", 1));
            collection.updateOne(Filters.eq("_id", "before"), Updates.set("v", 2));
            collection.replaceOne(Filters.eq("_id", "a"), document("a", 3));
            collection.deleteOne(Filters.eq("_id", "before"));
            client.getDatabase("stream").getCollection("other", RawBsonDocument.class).insertOne(document("elsewhere", 4));

            assertThat(pollUntil(stream, 4)).containsExactly(new BsonString("a"), new BsonString("before"), new BsonString("a"), new BsonString("before"));
            assertThat(stream.poll(Duration.ofMillis(50))).as("another collection's write is not this stream's").isEmpty();
            assertThat(stream.behind()).as("an empty poll: nothing known to be waiting").isFalse();
        }
    }

    @Test
    void shouldFailWhenTheCollectionGoesAway() {
        MongoCollection<RawBsonDocument> collection = client.getDatabase("stream").getCollection("dropped", RawBsonDocument.class);
        collection.insertOne(document("x", 1));
        try (ShardChangeStream stream = ShardChangeStream.open(collection)) {
            collection.drop();
            assertThatThrownBy(() -> pollUntil(stream, 1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("change stream of stream.dropped ended: drop");
        }
    }
}
