package io.shardline.shard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.bson.Document;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;

/**
 * The reply of {@code findAndModify} as MongoDB gives it, which the router reads to know what a shard did: a
 * {@code lastErrorObject} with {@code n}, for an update {@code updatedExisting}, and for an upsert the new document's
 * {@code upserted} id, whatever the filter, the update and the projection.
 */
class FindAndModifyReplyIT {

    @Test
    void shouldAnswerEveryOutcomeWithMongoDbsLastErrorObject() throws Exception {
        try (EmbeddedShard shard = EmbeddedShard.start("fam");
             MongoClient client = MongoClients.create(shard.connectionString())) {
            MongoDatabase db = client.getDatabase("app");
            db.getCollection("jobs").insertOne(new Document("_id", "j1").append("n", 1));

            Document updated = run(db, new Document("query", new Document("_id", "j1")).append("update", set("n", 2)).append("new", true));
            Document missed = run(db, new Document("query", new Document("_id", "none")).append("update", set("n", 2)));
            Document upsertedById = run(db, new Document("query", new Document("$and", List.of(new Document("_id", new Document("$eq", "j2")))))
                .append("update", set("n", 3)).append("upsert", true));
            Document upsertedAway = run(db, new Document("query", new Document("n", new Document("$lt", 0))).append("update", set("n", 4))
                .append("upsert", true).append("fields", new Document("_id", 0)).append("new", true));
            Document replaced = run(db, new Document("query", new Document("_id", "j3")).append("update", new Document("n", 5))
                .append("upsert", true).append("new", true));
            Document removed = run(db, new Document("query", new Document("_id", "j1")).append("remove", true));
            Document removedNone = run(db, new Document("query", new Document("_id", "j1")).append("remove", true));

            assertThat(updated.get("lastErrorObject")).isEqualTo(new Document("n", 1).append("updatedExisting", true));
            assertThat(updated.get("value")).isEqualTo(new Document("_id", "j1").append("n", 2));
            assertThat(missed.get("lastErrorObject")).isEqualTo(new Document("n", 0).append("updatedExisting", false));
            assertThat(missed.get("value")).isNull();
            assertThat(upsertedById.get("lastErrorObject")).isEqualTo(new Document("n", 1).append("updatedExisting", false).append("upserted", "j2"));
            Document away = upsertedAway.get("lastErrorObject", Document.class);
            assertThat(away.get("upserted")).isInstanceOf(ObjectId.class);
            assertThat(upsertedAway.get("value")).isEqualTo(new Document("n", 4));
            assertThat(db.getCollection("jobs").find(new Document("_id", away.get("upserted"))).first()).isNotNull();
            assertThat(replaced.get("lastErrorObject")).isEqualTo(new Document("n", 1).append("updatedExisting", false).append("upserted", "j3"));
            assertThat(replaced.get("value")).isEqualTo(new Document("_id", "j3").append("n", 5));
            assertThat(removed.get("lastErrorObject")).isEqualTo(new Document("n", 1));
            assertThat(removedNone.get("lastErrorObject")).isEqualTo(new Document("n", 0));
            assertThat(db.getCollection("jobs").find().into(new ArrayList<>())).hasSize(3);
        }
    }

    private static Document set(String field, Object value) {
        return new Document("$set", new Document(field, value));
    }

    private static Document run(MongoDatabase db, Document fields) {
        Document command = new Document("findAndModify", "jobs");
        command.putAll(fields);
        Document reply = db.runCommand(command);
        assertThat(reply.keySet().iterator().next()).isEqualTo("lastErrorObject");
        return reply;
    }
}
