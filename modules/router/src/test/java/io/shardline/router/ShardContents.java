package io.shardline.router;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Sorts;

import io.shardline.core.key.ShardKey;
import io.shardline.core.key.ShardKeyStrategy;
import io.shardline.core.routing.Chunk;
import io.shardline.shard.EmbeddedShard;

/**
 * Every shard of a test read directly, past the router: what each holds of a collection, and whether each document
 * sits where its stored shard key says and carries the key its own fields give.
 */
final class ShardContents implements AutoCloseable {

    private final Map<String, MongoClient> clients = new LinkedHashMap<>();

    ShardContents(Map<String, EmbeddedShard> shards) {
        shards.forEach((id, shard) -> clients.put(id, MongoClients.create(shard.connectionString())));
    }

    /** Each shard's documents of {@code namespace}, by {@code _id}. */
    Map<String, List<Document>> snapshot(String namespace) {
        int dot = namespace.indexOf('.');
        Map<String, List<Document>> contents = new LinkedHashMap<>();
        clients.forEach((id, client) -> contents.put(id, client.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1))
            .find().sort(Sorts.ascending("_id")).into(new ArrayList<>())));
        return contents;
    }

    /**
     * What is wrong with the placement of every document of {@code namespace}: a stored key ({@code _sk}) other than
     * the one its fields encode, or a shard other than the owner of the chunk its key falls in.
     */
    List<String> misplaced(String namespace, ShardKeyStrategy strategy, List<Chunk> chunks) {
        List<String> problems = new ArrayList<>();
        snapshot(namespace).forEach((shard, documents) -> {
            for (Document document : documents) {
                ShardKey key;
                try {
                    key = strategy.keyOf(document);
                } catch (IllegalArgumentException unkeyed) {
                    problems.add(shard + ": " + document.toJson() + " has no shard key: " + unkeyed.getMessage());
                    continue;
                }
                if (!key.toHex().equals(document.get("_sk"))) {
                    problems.add(shard + ": " + document.toJson() + " stores _sk " + document.get("_sk") + ", its fields encode " + key.toHex());
                }
                String owner = chunks.stream().filter(c -> c.range().contains(key)).findFirst().map(Chunk::shardId).orElse("no chunk");
                if (!owner.equals(shard)) {
                    problems.add(shard + ": " + document.toJson() + " belongs to a chunk of " + owner);
                }
            }
        });
        return problems;
    }

    @Override
    public void close() {
        clients.values().forEach(MongoClient::close);
    }
}
