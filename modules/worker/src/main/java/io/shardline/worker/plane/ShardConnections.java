package io.shardline.worker.plane;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.bson.BsonDocument;
import org.bson.RawBsonDocument;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Indexes;
import com.mongodb.client.model.ReplaceOptions;

import io.shardline.core.routing.RangeRelease;
import io.shardline.schemas.avro.ShardDescriptor;

/**
 * A worker's connections to the registered shards (one client per shard and connection string) and what it keeps on
 * them besides documents: the release records of ranges that left a shard, and the range deletions still to run.
 */
public final class ShardConnections {

    /**
     * How long a request waits for a shard it cannot reach before it fails: not the driver's 30 s, during which a step
     * would sit in a write that reaches the shard long after the step's last ownership check. A step that fails so is
     * retried, or waits stalled once the health monitor has marked the shard DOWN.
     */
    static final Duration UNREACHABLE_AFTER = Duration.ofSeconds(2);

    private final Function<String, ShardDescriptor> registered;
    private final Ownership ownership;
    private final Map<String, MongoClient> clients;

    /**
     * @param registered the registered shard of an id, or null
     * @param ownership  the term a release record is written under
     * @param clients    the clients by shard id and connection string, shared by the worker's terms (closed with its views)
     */
    ShardConnections(Function<String, ShardDescriptor> registered, Ownership ownership, Map<String, MongoClient> clients) {
        this.registered = registered;
        this.ownership = ownership;
        this.clients = clients;
    }

    /** The collection of a namespace on a shard, as raw BSON. */
    public MongoCollection<RawBsonDocument> collection(String shardId, String namespace) {
        int dot = namespace.indexOf('.');
        return client(shardId).getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1), RawBsonDocument.class);
    }

    private MongoClient client(String shardId) {
        ShardDescriptor shard = registered.apply(shardId);
        if (shard == null) {
            throw new IllegalStateException("shard " + shardId + " is not registered");
        }
        return clients.computeIfAbsent(shardId + "|" + shard.getConnectionString(), key -> create(shard.getConnectionString()));
    }

    /** The collection of a namespace on a shard's standby, as raw BSON; {@code null} when the shard has no standby. */
    public MongoCollection<RawBsonDocument> standbyCollection(String shardId, String namespace) {
        ShardDescriptor shard = registered.apply(shardId);
        if (shard == null || shard.getStandbyConnectionString() == null) {
            return null;
        }
        String uri = shard.getStandbyConnectionString();
        int dot = namespace.indexOf('.');
        return clients.computeIfAbsent("standby|" + shardId + "|" + uri, key -> create(uri))
            .getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1), RawBsonDocument.class);
    }

    private static MongoClient create(String uri) {
        return MongoClients.create(MongoClientSettings.builder()
            .applyConnectionString(new ConnectionString(uri))
            .applyToClusterSettings(c -> c.serverSelectionTimeout(UNREACHABLE_AFTER.toMillis(), TimeUnit.MILLISECONDS))
            .applyToSocketSettings(c -> c.connectTimeout((int) UNREACHABLE_AFTER.toMillis(), TimeUnit.MILLISECONDS))
            .build());
    }

    /**
     * Records on a shard that a range left it (idempotent: one record per migration), before the range is deleted
     * there; routers that read the range from this shard with older routing find it and refresh.
     */
    public void recordRelease(String shardId, RangeRelease release) {
        ownership.check();
        recordRelease(client(shardId), release);
    }

    /** {@link #recordRelease(String, RangeRelease)} on a server given by its client (a standby about to be promoted). */
    public static void recordRelease(MongoClient server, RangeRelease release) {
        MongoCollection<BsonDocument> releases = server.getDatabase(RangeRelease.DATABASE).getCollection(RangeRelease.COLLECTION, BsonDocument.class);
        releases.createIndex(Indexes.ascending("ns", "routingVersion"));
        BsonDocument document = release.toDocument();
        releases.replaceOne(Filters.eq("_id", document.get("_id")), document, new ReplaceOptions().upsert(true));
    }

    /** The range deletions recorded on a shard. */
    public RangeDeletions deletions(String shardId) {
        return new RangeDeletions(client(shardId).getDatabase(RangeDeletions.DATABASE).getCollection(RangeDeletions.COLLECTION, BsonDocument.class));
    }
}
