package io.shardline.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.TimeUnit;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

/** A shard that stops answering refuses every request, and answers again on the same address with the data it had. */
class OutageIT {

    @Test
    void shouldRefuseRequestsDuringAnOutageAndKeepItsDataForAfter() {
        try (EmbeddedShard shard = EmbeddedShard.start("outage");
             MongoClient client = MongoClients.create(shard.connectionString());
             MongoClient quick = MongoClients.create(MongoClientSettings.builder().applyConnectionString(new ConnectionString(shard.connectionString()))
                 .applyToClusterSettings(c -> c.serverSelectionTimeout(300, TimeUnit.MILLISECONDS))
                 .applyToSocketSettings(s -> s.connectTimeout(300, TimeUnit.MILLISECONDS)).build())) {
            MongoCollection<Document> docs = client.getDatabase("app").getCollection("docs");
            docs.insertOne(new Document("_id", 1).append("n", 1));
            assertThat(quick.getDatabase("app").getCollection("docs").countDocuments()).isEqualTo(1);
            String address = shard.connectionString();

            shard.stopAnswering();
            assertThatThrownBy(() -> quick.getDatabase("app").getCollection("docs").find().first()).isInstanceOf(MongoException.class);
            shard.stopAnswering();

            shard.answerAgain();
            // The connections the client pooled before the outage were closed by it: the first use of one fails.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (true) {
                try {
                    docs.insertOne(new Document("_id", 2).append("n", 2));
                    break;
                } catch (MongoException staleConnection) {
                    if (System.nanoTime() > deadline) {
                        throw staleConnection;
                    }
                }
            }
            assertThat(shard.connectionString()).isEqualTo(address);
            assertThat(docs.countDocuments()).as("the document written before the outage, and one after").isEqualTo(2);
        }
    }
}
