package io.shardline.shard;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoChangeStreamCursor;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.changestream.ChangeStreamDocument;

/**
 * A change stream waiting for events holds its connection's thread for up to its await time; the connections of
 * other clients must not queue behind it. Many more connections than the shard has command threads are opened while
 * a change stream keeps waiting, so some would share its thread if it kept one of the shared ones, and each runs a few
 * finds: none waits anywhere near the stream's await time.
 */
class ChangeStreamIsolationIT {

    private static final int AWAIT_MILLIS = 4_000;
    private static final int CLIENTS = 80;
    private static final int FINDS = 3;

    /**
     * Each change-stream connection's thread stops when the connection is torn down, and only then: the shared command
     * threads every new connection is pinned to all keep running (one stopped by a teardown would fail the connections
     * pinned to it).
     */
    @Test
    void shouldServeNewConnectionsAfterChangeStreamConnectionsClose() throws Exception {
        try (EmbeddedShard shard = EmbeddedShard.start("closing")) {
            for (int round = 0; round < 20; round++) {
                try (MongoClient streamer = MongoClients.create(shard.connectionString());
                     MongoChangeStreamCursor<ChangeStreamDocument<Document>> cursor = streamer.getDatabase("app").getCollection("watched").watch()
                         .maxAwaitTime(50, TimeUnit.MILLISECONDS).cursor()) {
                    cursor.tryNext();
                }
            }
            Thread.sleep(1_500);
            List<MongoClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    MongoClient client = MongoClients.create(MongoClientSettings.builder()
                        .applyConnectionString(new ConnectionString(shard.connectionString()))
                        .applyToConnectionPoolSettings(pool -> pool.maxSize(1)).build());
                    clients.add(client);
                    assertThat(client.getDatabase("app").runCommand(new Document("ping", 1)).get("ok")).as("client %d", i).isNotNull();
                }
            } finally {
                clients.forEach(MongoClient::close);
            }
        }
    }

    @Test
    void shouldNeverQueueACommandBehindAWaitingChangeStream() throws Exception {
        try (EmbeddedShard shard = EmbeddedShard.start("isolation");
             MongoClient streamer = MongoClients.create(shard.connectionString())) {
            streamer.getDatabase("app").getCollection("docs").insertOne(new Document("_id", 0));
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger waits = new AtomicInteger();
            Thread stream = new Thread(() -> {
                try (MongoChangeStreamCursor<ChangeStreamDocument<Document>> cursor = streamer.getDatabase("app").getCollection("watched").watch()
                    .maxAwaitTime(AWAIT_MILLIS, TimeUnit.MILLISECONDS).cursor()) {
                    while (running.get()) {
                        cursor.tryNext();
                        waits.incrementAndGet();
                    }
                }
            }, "change-stream");
            stream.start();
            List<MongoClient> clients = new ArrayList<>();
            long slowest = 0;
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    clients.add(MongoClients.create(MongoClientSettings.builder().applyConnectionString(new ConnectionString(shard.connectionString()))
                        .applyToConnectionPoolSettings(pool -> pool.maxSize(1)).build()));
                }
                for (MongoClient client : clients) {
                    for (int f = 0; f < FINDS; f++) {
                        long started = System.nanoTime();
                        assertThat(client.getDatabase("app").getCollection("docs").find().first()).isNotNull();
                        slowest = Math.max(slowest, System.nanoTime() - started);
                    }
                }
            } finally {
                running.set(false);
                clients.forEach(MongoClient::close);
                stream.join(TimeUnit.SECONDS.toMillis(30));
            }
            assertThat(waits.get()).as("the change stream kept waiting while the finds ran").isPositive();
            assertThat(TimeUnit.NANOSECONDS.toMillis(slowest)).as("the slowest of %d finds, against the stream's await of %d ms", CLIENTS * FINDS,
                AWAIT_MILLIS).isLessThan(AWAIT_MILLIS / 2);
        }
    }
}
