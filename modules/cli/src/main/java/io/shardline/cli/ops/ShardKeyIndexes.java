package io.shardline.cli.ops;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoException;
import com.mongodb.MongoSocketException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Indexes;

import io.shardline.worker.data.RangeOps;

/**
 * The shard-key index, {@code {_sk: 1}}, of each namespace on each shard: every read the router sends a shard, and
 * every copy, comparison and deletion of a migration, selects documents by a range of {@code _sk}. Creating it is
 * idempotent (an existing index is left as it is) and creates the collection where it does not exist yet.
 */
public final class ShardKeyIndexes {

    /** How long a shard may take to answer when its connection string sets no {@code serverSelectionTimeoutMS}. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    /** A shard that did not take the index, and why. */
    public record Failure(String shardId, String namespace, String reason) {

        @Override
        public String toString() {
            return "shard " + shardId + ": cannot create the shard-key index {" + RangeOps.KEY_FIELD + ": 1} of " + namespace + ": " + reason;
        }
    }

    private ShardKeyIndexes() {
    }

    /**
     * Creates the index of every namespace on every shard, the shards in parallel.
     *
     * @param shards     each shard's connection string, by shard id
     * @param namespaces {@code database.collection}
     * @return the shards that did not take it, with why; empty when every shard has it
     */
    public static List<Failure> ensure(Map<String, String> shards, Collection<String> namespaces) throws InterruptedException {
        ExecutorService executor = Executors.newFixedThreadPool(Math.max(1, shards.size()), task -> {
            Thread thread = new Thread(task, "shard-key-index");
            thread.setDaemon(true);
            return thread;
        });
        try {
            Map<String, Future<List<Failure>>> running = new LinkedHashMap<>();
            shards.forEach((id, uri) -> running.put(id, executor.submit(() -> ensure(id, uri, namespaces))));
            List<Failure> failures = new ArrayList<>();
            for (Map.Entry<String, Future<List<Failure>>> shard : running.entrySet()) {
                try {
                    failures.addAll(shard.getValue().get());
                } catch (ExecutionException e) {
                    failures.add(new Failure(shard.getKey(), String.join(", ", namespaces), String.valueOf(e.getCause())));
                }
            }
            return failures;
        } finally {
            executor.shutdownNow();
        }
    }

    private static List<Failure> ensure(String shardId, String uri, Collection<String> namespaces) {
        ConnectionString connection = new ConnectionString(uri);
        MongoClientSettings.Builder settings = MongoClientSettings.builder().applyConnectionString(connection);
        if (connection.getServerSelectionTimeout() == null) {
            settings.applyToClusterSettings(cluster -> cluster.serverSelectionTimeout(DEFAULT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
        }
        List<Failure> failures = new ArrayList<>();
        List<String> pending = List.copyOf(namespaces);
        try (MongoClient client = MongoClients.create(settings.build())) {
            for (int i = 0; i < pending.size(); i++) {
                String namespace = pending.get(i);
                int dot = namespace.indexOf('.');
                try {
                    client.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1))
                        .createIndex(Indexes.ascending(RangeOps.KEY_FIELD));
                } catch (MongoTimeoutException | MongoSocketException unreachable) {
                    // Out of reach: the namespaces left would each wait as long again.
                    failures.add(new Failure(shardId, String.join(", ", pending.subList(i, pending.size())), unreachable.getMessage()));
                    break;
                } catch (MongoException e) {
                    failures.add(new Failure(shardId, namespace, e.getMessage()));
                }
            }
        }
        return failures;
    }
}
