package io.shardline.backup;

import java.io.IOException;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * One change of a shard's CDC topic, read out of Debezium's MongoDB envelope: which document, what it became (the
 * post-image the shard recorded at write time, {@code null} for a delete) and when the shard applied it
 * ({@code source.wallTime}, milliseconds). A record that cannot be read throws {@link IllegalArgumentException}
 * naming the field.
 *
 * @param offset   the record's offset in its topic
 * @param id       the document's {@code _id}
 * @param after    the document after the change; {@code null} when it was deleted
 * @param wallTime when the shard applied the change, epoch milliseconds
 * @param snapshot true for the connector's initial snapshot reads ({@code op: r}), false for changes
 * @param imageMissing an update whose post-image the connector could not read (MongoDB's {@code updateLookup} finds
 *                     nothing once the document is deleted; the delete's own change follows): it changes nothing here
 * @param clusterTime  the change's cluster time on the shard (the oplog entry's timestamp, as a {@code BsonTimestamp}'s
 *                     value: seconds in the high 32 bits, the increment in the low ones), from {@code source.ts_ms} and
 *                     {@code source.ord}; 0 when the record carries neither
 */
public record ChangeRecord(long offset, BsonValue id, RawBsonDocument after, long wallTime, boolean snapshot, boolean imageMissing,
                           long clusterTime) {

    /** The field that marks the documents the system itself writes (migration and backup markers). */
    public static final String MARKER_FIELD = "shardlineMarker";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** True when this change is to a marker document rather than to the service's data. */
    public boolean marker() {
        return after != null && after.containsKey(MARKER_FIELD);
    }

    /** Reads a CDC record ({@code key: {"id": <extended JSON _id>}}, the value Debezium's envelope as JSON). */
    public static ChangeRecord of(ConsumerRecord<byte[], byte[]> record) {
        return of(record.offset(), record.key(), record.value());
    }

    /** Reads a CDC record from its offset, key and value, as {@link #of(ConsumerRecord)} does. */
    public static ChangeRecord of(long offset, byte[] key, byte[] value) {
        BsonValue id = documentId(key);
        JsonNode envelope = json(value, "value");
        String op = text(envelope, "op");
        JsonNode source = envelope.get("source");
        if (source == null || !source.isObject()) {
            throw new IllegalArgumentException("value.source: missing");
        }
        JsonNode wall = source.get("wallTime");
        long wallTime = wall != null && wall.canConvertToLong() ? wall.asLong() : fallbackTime(source);
        boolean imageMissing = "u".equals(op) && (envelope.get("after") == null || envelope.get("after").isNull());
        RawBsonDocument after = switch (op) {
            case "c", "r" -> afterOf(envelope);
            case "u" -> imageMissing ? null : afterOf(envelope);
            case "d" -> null;
            default -> throw new IllegalArgumentException("value.op: '" + op + "' is none of c, u, r, d");
        };
        return new ChangeRecord(offset, id, after, wallTime, "r".equals(op), imageMissing, clusterTime(source));
    }

    /** Debezium's MongoDB source block carries the change's cluster time as {@code ts_ms} (its seconds, in ms) and {@code ord}. */
    private static long clusterTime(JsonNode source) {
        JsonNode ts = source.get("ts_ms");
        JsonNode ord = source.get("ord");
        if (ts == null || !ts.canConvertToLong() || ord == null || !ord.canConvertToLong()) {
            return 0;
        }
        return ((ts.asLong() / 1000) << 32) | (ord.asLong() & 0xFFFFFFFFL);
    }

    private static long fallbackTime(JsonNode source) {
        JsonNode ts = source.get("ts_ms");
        if (ts == null || !ts.canConvertToLong()) {
            throw new IllegalArgumentException("value.source.wallTime: missing, and no source.ts_ms either");
        }
        return ts.asLong();
    }

    private static RawBsonDocument afterOf(JsonNode envelope) {
        JsonNode after = envelope.get("after");
        if (after == null || !after.isTextual()) {
            throw new IllegalArgumentException("value.after: missing; the connector must capture full documents (capture.mode change_streams_update_full)");
        }
        try {
            return RawBsonDocument.parse(after.asText());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("value.after: not an extended-JSON document: " + e.getMessage(), e);
        }
    }

    /** The {@code _id} a Debezium MongoDB key carries as extended JSON in its {@code id} field. */
    public static BsonValue documentId(byte[] key) {
        JsonNode id = json(key, "key").get("id");
        if (id == null || !id.isTextual()) {
            throw new IllegalArgumentException("key.id: missing; Debezium keys carry the document _id as 'id'");
        }
        try {
            return BsonDocument.parse("{\"v\": " + id.asText() + "}").get("v");
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("key.id: not an extended-JSON value: " + e.getMessage(), e);
        }
    }

    private static JsonNode json(byte[] bytes, String what) {
        if (bytes == null) {
            throw new IllegalArgumentException(what + ": missing");
        }
        try {
            JsonNode node = JSON.readTree(bytes);
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException(what + ": not a JSON object");
            }
            return node;
        } catch (IOException e) {
            throw new IllegalArgumentException(what + ": not JSON: " + e.getMessage(), e);
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isTextual()) {
            throw new IllegalArgumentException("value." + field + ": missing");
        }
        return value.asText();
    }
}
