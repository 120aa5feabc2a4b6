package io.shardline.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

/** A shard given a service time takes at least that long for every data command (the throughput-scaling bench's shards). */
class ServiceTimeIT {

    private static final Duration SERVICE_TIME = Duration.ofMillis(300);

    @Test
    void shouldTakeAtLeastTheServiceTimeForEachDataCommand() {
        try (EmbeddedShard shard = EmbeddedShard.start("slow", EmbeddedShardConfig.defaults("slow").withServiceTime(SERVICE_TIME));
             MongoClient client = MongoClients.create(shard.connectionString())) {
            MongoCollection<Document> docs = client.getDatabase("app").getCollection("docs");
            long insert = timed(() -> docs.insertOne(new Document("_id", 1)));
            long find = timed(() -> docs.find(new Document("_id", 1)).first());
            long count = timed(() -> docs.countDocuments());

            assertThat(insert).isGreaterThanOrEqualTo(SERVICE_TIME.toNanos());
            assertThat(find).isGreaterThanOrEqualTo(SERVICE_TIME.toNanos());
            assertThat(count).isGreaterThanOrEqualTo(SERVICE_TIME.toNanos());
            assertThat(docs.find().first()).isEqualTo(new Document("_id", 1));
        }
    }

    @Test
    void shouldRefuseANegativeServiceTime() {
        assertThatThrownBy(() -> EmbeddedShardConfig.defaults("s").withServiceTime(Duration.ofMillis(-1)))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("serviceTime");
        assertThat(EmbeddedShardConfig.defaults("s").serviceTime()).isZero();
    }

    private static long timed(Runnable command) {
        long started = System.nanoTime();
        command.run();
        return System.nanoTime() - started;
    }
}
