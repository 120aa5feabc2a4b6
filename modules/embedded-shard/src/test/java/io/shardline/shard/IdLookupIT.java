package io.shardline.shard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;

/** Finds by a list of ids through the driver: the same answers the full scan gives, with or without more conditions. */
class IdLookupIT {

    @Test
    void shouldAnswerAFindByAListOfIdsWithExactlyTheMatchingDocuments() throws Exception {
        try (EmbeddedShard shard = EmbeddedShard.start("ids");
             MongoClient client = MongoClients.create(shard.connectionString())) {
            MongoCollection<Document> docs = client.getDatabase("app").getCollection("docs");
            List<Document> all = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                all.add(new Document("_id", "d" + i).append("_sk", String.format("%04x", i)).append("n", i));
            }
            all.add(new Document("_id", 7).append("_sk", "0050").append("n", -1));
            docs.insertMany(all);

            List<Object> ids = List.of("d3", "d150", "missing", 7, "d3");
            assertThat(docs.find(Filters.in("_id", ids)).into(new ArrayList<>())).extracting(d -> d.get("_id"))
                .containsExactlyInAnyOrder("d3", "d150", 7);
            assertThat(docs.find(Filters.and(Filters.in("_id", ids), Filters.gte("_sk", "0010"), Filters.lt("_sk", "0100")))
                .into(new ArrayList<>())).extracting(d -> d.get("_id")).containsExactlyInAnyOrder("d150", 7);
            assertThat(docs.find(Filters.in("_id", ids)).projection(Projections.include("n")).into(new ArrayList<>()))
                .extracting(d -> d.get("n")).containsExactlyInAnyOrder(3, 150, -1);
            assertThat(docs.find(Filters.in("_id", List.of())).into(new ArrayList<>())).isEmpty();

            // Deletes by id among other conditions, and by a list of ids, remove exactly what matches.
            assertThat(docs.deleteOne(Filters.and(Filters.eq("_id", "d4"), Filters.gte("_sk", "0100"))).getDeletedCount()).isZero();
            assertThat(docs.deleteOne(Filters.and(Filters.eq("_id", "d4"), Filters.lt("_sk", "0100"))).getDeletedCount()).isEqualTo(1);
            assertThat(docs.deleteMany(Filters.and(Filters.in("_id", List.of("d5", "d6", "d199", "nope")), Filters.lt("_sk", "0010")))
                .getDeletedCount()).isEqualTo(2);
            assertThat(docs.deleteMany(Filters.in("_id", List.of("nope"))).getDeletedCount()).isZero();
            assertThat(docs.countDocuments()).isEqualTo(201 - 3);
            assertThat(docs.find(Filters.in("_id", List.of("d4", "d5", "d6", "d199"))).into(new ArrayList<>())).extracting(d -> d.get("_id"))
                .containsExactly("d199");
        }
    }

    @Test
    void shouldDeleteEveryMatchOfAFilterWithARegexOnIdAmongOtherConditions() throws Exception {
        try (EmbeddedShard shard = EmbeddedShard.start("ids-deleting");
             MongoClient client = MongoClients.create(shard.connectionString())) {
            MongoCollection<Document> docs = client.getDatabase("app").getCollection("docs");
            List<Document> all = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                all.add(new Document("_id", (i % 3 == 0 ? "keep-" : "odm-") + i).append("n", i));
            }
            docs.insertMany(all);

            // What a router sends for a deleteMany by a regex on _id: the filter inside an $and with its own conditions. A
            // regular expression pins no single _id (taken for one, the lookup deleted one document of twenty).
            assertThat(docs.deleteMany(Filters.and(Filters.regex("_id", "^odm-"), Filters.exists("_tx", false))).getDeletedCount()).isEqualTo(20);
            assertThat(docs.deleteMany(Filters.and(Filters.regex("_id", "^keep-"), Filters.gte("n", 15))).getDeletedCount()).isEqualTo(5);
            assertThat(docs.deleteMany(Filters.and(Filters.regex("_id", "^none-"), Filters.gte("n", 0))).getDeletedCount()).isZero();
            assertThat(docs.find(Filters.and(Filters.regex("_id", "^keep-"), Filters.gte("n", 0))).into(new ArrayList<>())).extracting(d -> d.get("_id"))
                .containsExactlyInAnyOrder("keep-0", "keep-3", "keep-6", "keep-9", "keep-12");
        }
    }

    @Test
    void shouldNeverAnswerAFindByIdWithADocumentThatNoLongerMatches() throws Exception {
        try (EmbeddedShard shard = EmbeddedShard.start("ids-racing");
             MongoClient client = MongoClients.create(shard.connectionString())) {
            MongoCollection<Document> docs = client.getDatabase("app").getCollection("docs");
            docs.insertOne(new Document("_id", "held").append("holder", "a"));
            java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread writer = new Thread(() -> {
                while (running.get()) {
                    docs.updateOne(Filters.eq("_id", "held"), new Document("$set", new Document("holder", "b")));
                    docs.updateOne(Filters.eq("_id", "held"), new Document("$set", new Document("holder", "a")));
                }
            });
            writer.start();
            List<Object> answered = new ArrayList<>();
            try {
                for (int i = 0; i < 3_000; i++) {
                    for (Document found : docs.find(Filters.and(Filters.eq("_id", "held"), Filters.eq("holder", "a")))) {
                        answered.add(found.get("holder"));
                    }
                }
            } finally {
                running.set(false);
                writer.join();
            }
            // The shard answers with a copy made under the namespace's write lock: an update while the answer was checked,
            // read again by _id or sent would show holder b.
            assertThat(answered).isNotEmpty().containsOnly("a");
        }
    }
}
