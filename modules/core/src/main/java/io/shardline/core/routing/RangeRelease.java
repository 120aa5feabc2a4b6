package io.shardline.core.routing;

import java.util.Objects;

import org.bson.BsonDocument;
import org.bson.BsonInt64;
import org.bson.BsonNull;
import org.bson.BsonString;
import org.bson.BsonValue;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;

/**
 * A shard's own record that a key range of a namespace left it: written on the old owner by the migration worker
 * before it deletes the range there, after the cutover's grace period. It is how a shard tells a router whose routing
 * is behind that "this range is no longer here": a router that read the range from this shard while its applied
 * routing version was below {@link #routingVersion()} may have read a range that was being deleted, so it refreshes
 * its routing and retries.
 *
 * <p>Stored in {@value #DATABASE}.{@value #COLLECTION} on every shard (a database the CDC connectors exclude).
 *
 * @param namespace      the namespace the range belongs to
 * @param range          the range the shard no longer owns
 * @param toShard        the shard that owns it now
 * @param migrationId    the migration that moved it
 * @param routingVersion a routing-topic position at or after the cutover: a router that has applied it knows the new owner
 */
public record RangeRelease(String namespace, KeyRange range, String toShard, String migrationId, long routingVersion) {

    public static final String DATABASE = "shardline";
    public static final String COLLECTION = "released_ranges";

    public RangeRelease {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(range, "range");
        Objects.requireNonNull(toShard, "toShard");
        Objects.requireNonNull(migrationId, "migrationId");
    }

    /** One document per migration, so a range that moves away twice keeps both records. */
    public BsonDocument toDocument() {
        return new BsonDocument("_id", new BsonString(migrationId))
            .append("ns", new BsonString(namespace))
            .append("min", new BsonString(range.min().toHex()))
            .append("max", range.max() == null ? BsonNull.VALUE : new BsonString(range.max().toHex()))
            .append("to", new BsonString(toShard))
            .append("routingVersion", new BsonInt64(routingVersion));
    }

    /**
     * @throws IllegalArgumentException naming the field when the document is not a release record
     */
    public static RangeRelease fromDocument(BsonDocument document) {
        String min = string(document, "min");
        BsonValue max = document.get("max");
        if (max != null && !max.isNull() && !max.isString()) {
            throw new IllegalArgumentException("max: a hex string or null is required");
        }
        BsonValue version = document.get("routingVersion");
        if (version == null || !version.isNumber()) {
            throw new IllegalArgumentException("routingVersion: a number is required");
        }
        KeyRange range = new KeyRange(ShardKey.ofHex(min), max == null || max.isNull() ? null : ShardKey.ofHex(max.asString().getValue()));
        return new RangeRelease(string(document, "ns"), range, string(document, "to"), string(document, "_id"),
            version.asNumber().longValue());
    }

    /** The query for the releases of a namespace a router at {@code appliedVersion} has not seen yet. */
    public static BsonDocument newerThan(String namespace, long appliedVersion) {
        return new BsonDocument("ns", new BsonString(namespace))
            .append("routingVersion", new BsonDocument("$gt", new BsonInt64(appliedVersion)));
    }

    private static String string(BsonDocument document, String field) {
        BsonValue value = document.get(field);
        if (value == null || !value.isString()) {
            throw new IllegalArgumentException(field + ": a string is required");
        }
        return value.asString().getValue();
    }
}
