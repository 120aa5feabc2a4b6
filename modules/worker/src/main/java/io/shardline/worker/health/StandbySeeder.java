package io.shardline.worker.health;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.common.TopicPartition;
import org.bson.Document;
import org.bson.RawBsonDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOneModel;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.WriteModel;

import io.shardline.schemas.ConnectRestClient;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.standby.StandbyProgress;
import io.shardline.standby.StandbySinkConnector;
import io.shardline.worker.plane.ControlPlane;

/**
 * Makes a MongoDB the standby of a shard: the shard's CDC end offsets are read first (the watermark), then every
 * namespace of the shard is copied with its indexes, then the standby's sink connector is started on Kafka Connect
 * from the watermark. Changes made during the copy are in the copy or after the watermark or both: the sink replays
 * post-images in order, so the standby converges to the shard (the argument a migration's copy rests on).
 */
public final class StandbySeeder {

    private static final Logger LOG = LoggerFactory.getLogger(StandbySeeder.class);
    /** Databases every MongoDB has, and the system's own; never copied, and allowed on an empty standby. */
    static final Set<String> SYSTEM_DATABASES = Set.of("admin", "config", "local", "shardline");
    private static final int BATCH = 1_000;
    private static final Duration CONNECTOR_START = Duration.ofSeconds(60);

    private final ControlPlane plane;
    private final ConnectRestClient connect;

    public StandbySeeder(ControlPlane plane, ConnectRestClient connect) {
        this.plane = plane;
        this.connect = connect;
    }

    /**
     * Seeds {@code standbyUri} from {@code shard} and starts its sink; returns how many documents were copied.
     *
     * @param wipe drop what the standby holds first (a former primary coming back); without it a standby holding any
     *             database of its own is refused
     * @throws IllegalArgumentException naming the problem when the standby cannot be one
     */
    public long seed(ShardDescriptor shard, String standbyUri, boolean wipe) {
        String shardId = shard.getShardId();
        try (MongoClient standby = client(standbyUri, Duration.ofSeconds(2)); MongoClient primary = client(shard.getConnectionString(), Duration.ofSeconds(5))) {
            standby.getDatabase("admin").runCommand(new Document("ping", 1));
            List<String> held = new ArrayList<>();
            standby.listDatabaseNames().forEach(name -> {
                if (!SYSTEM_DATABASES.contains(name)) {
                    held.add(name);
                }
            });
            if (!held.isEmpty() && !wipe) {
                throw new IllegalArgumentException("the standby at " + standbyUri + " holds databases " + held + "; a standby starts empty");
            }
            if (sameServer(standbyUri, shard.getConnectionString())) {
                throw new IllegalArgumentException("the standby at " + standbyUri + " is the server of shard " + shardId + " itself");
            }
            // A sink left by an earlier seeding must be gone before the wipe: it would write old post-images into it.
            String sink = StandbySinkConnector.name(shardId);
            connect.delete(sink);
            awaitGone(sink);
            plane.ownership().check();
            held.forEach(name -> standby.getDatabase(name).drop());
            StandbyProgress.clear(standby);

            Map<String, Long> watermarks = new HashMap<>(plane.cdcEnds(shardId));
            for (String namespace : namespaces(primary)) {
                watermarks.computeIfAbsent(namespace, ns -> plane.cdcEnd(shardId, ns));
            }
            long copied = 0;
            for (String namespace : watermarks.keySet()) {
                plane.ownership().check();
                copied += copy(primary, standby, namespace);
            }
            Map<TopicPartition, Long> from = new HashMap<>();
            watermarks.forEach((namespace, offset) -> from.put(new TopicPartition(TopicCatalog.cdcTopic(shardId, namespace), 0), offset));
            commitWhenGroupEmpty("connect-" + sink, from);
            // The standby holds everything before each watermark: its progress says so, so a quiet namespace counts as caught up.
            watermarks.forEach((namespace, offset) -> StandbyProgress.resumeAt(standby, namespace, TopicCatalog.cdcTopic(shardId, namespace), offset));
            connect.configure(sink, StandbySinkConnector.config(shardId, standbyUri, plane.catalog().cdcDlq().name()));
            connect.awaitRunning(sink, CONNECTOR_START);
            LOG.info("standby {} of shard {}: {} documents of {} namespaces copied, sink {} started at {}", standbyUri, shardId, copied,
                watermarks.size(), sink, watermarks);
            return copied;
        } catch (IOException e) {
            throw new IllegalStateException("Kafka Connect refused the standby's sink of " + shardId + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while seeding the standby of " + shardId, e);
        }
    }

    /** True when the standby at {@code uri} holds the progress of a seeding for this shard (and may be seeded anew). */
    public static boolean seededFor(String uri, String shardId) {
        try (MongoClient standby = client(uri, Duration.ofSeconds(2))) {
            String prefix = TopicCatalog.cdcTopic(shardId, "");
            return StandbyProgress.applied(standby).keySet().stream().anyMatch(topic -> topic.startsWith(prefix));
        }
    }

    /**
     * True when both addresses reach the same server (its {@code hello} names the same member of the same replica set):
     * two spellings of one address must not let a seeding wipe the shard it seeds from.
     */
    public static boolean sameServer(String uri, String other) {
        try (MongoClient one = client(uri, Duration.ofSeconds(2)); MongoClient two = client(other, Duration.ofSeconds(2))) {
            Document a = one.getDatabase("admin").runCommand(new Document("hello", 1));
            Document b = two.getDatabase("admin").runCommand(new Document("hello", 1));
            return a.get("me") != null && a.get("me").equals(b.get("me")) && java.util.Objects.equals(a.get("setName"), b.get("setName"));
        } catch (com.mongodb.MongoException unreachable) {
            // One of them does not answer: they are not known to be the same server, and the seeding's own ping decides.
            return false;
        }
    }

    /** The namespaces ({@code db.coll}) of a shard's own databases. */
    static List<String> namespaces(MongoClient shard) {
        List<String> namespaces = new ArrayList<>();
        shard.listDatabaseNames().forEach(database -> {
            if (!SYSTEM_DATABASES.contains(database)) {
                shard.getDatabase(database).listCollectionNames().forEach(collection -> {
                    if (!collection.startsWith("system.")) {
                        namespaces.add(database + "." + collection);
                    }
                });
            }
        });
        return namespaces;
    }

    private static long copy(MongoClient primary, MongoClient standby, String namespace) {
        int dot = namespace.indexOf('.');
        MongoCollection<RawBsonDocument> from = primary.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1), RawBsonDocument.class);
        MongoCollection<RawBsonDocument> to = standby.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1), RawBsonDocument.class);
        for (Document index : from.listIndexes()) {
            if (!"_id_".equals(index.getString("name"))) {
                Document spec = new Document(index);
                spec.remove("v");
                spec.remove("ns");
                standby.getDatabase(namespace.substring(0, dot)).runCommand(new Document("createIndexes", namespace.substring(dot + 1))
                    .append("indexes", List.of(spec)));
            }
        }
        long copied = 0;
        List<WriteModel<RawBsonDocument>> batch = new ArrayList<>(BATCH);
        for (RawBsonDocument document : from.find().batchSize(BATCH)) {
            batch.add(new ReplaceOneModel<>(Filters.eq("_id", document.get("_id")), document, new ReplaceOptions().upsert(true)));
            if (batch.size() == BATCH) {
                to.bulkWrite(batch, new BulkWriteOptions().ordered(false));
                copied += batch.size();
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            to.bulkWrite(batch, new BulkWriteOptions().ordered(false));
            copied += batch.size();
        }
        return copied;
    }

    private void awaitGone(String connector) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + CONNECTOR_START.toNanos();
        while (connect.state(connector) != null) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("connector " + connector + " still there " + CONNECTOR_START.toSeconds() + " s after it was deleted");
            }
            Thread.sleep(50);
        }
    }

    /** A sink deleted a moment ago may still have members in its group: its offsets can be set once they are gone. */
    private void commitWhenGroupEmpty(String group, Map<TopicPartition, Long> offsets) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                plane.commitGroupOffsets(group, offsets);
                return;
            } catch (IllegalStateException notEmpty) {
                if (System.nanoTime() > deadline) {
                    throw notEmpty;
                }
                Thread.sleep(200);
            }
        }
    }

    static MongoClient client(String uri, Duration timeout) {
        return MongoClients.create(MongoClientSettings.builder().applyConnectionString(new ConnectionString(uri))
            .applyToClusterSettings(c -> c.serverSelectionTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS))
            .applyToSocketSettings(s -> s.connectTimeout((int) timeout.toMillis(), TimeUnit.MILLISECONDS)).build());
    }
}
