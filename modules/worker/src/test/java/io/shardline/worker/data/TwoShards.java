package io.shardline.worker.data;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.shardline.shard.EmbeddedShard;

/** Two embedded shards with a driver client each: the two sides of a range, for tests of what a migration does to it. */
final class TwoShards implements AutoCloseable {

    private final EmbeddedShard sourceShard;
    private final EmbeddedShard targetShard;
    final MongoClient source;
    final MongoClient target;

    TwoShards(String name) {
        sourceShard = EmbeddedShard.start(name + "-source");
        targetShard = EmbeddedShard.start(name + "-target");
        source = MongoClients.create(sourceShard.connectionString());
        target = MongoClients.create(targetShard.connectionString());
    }

    @Override
    public void close() {
        source.close();
        target.close();
        sourceShard.close();
        targetShard.close();
    }
}
