package io.shardline.standby;

import java.nio.charset.StandardCharsets;

import org.apache.kafka.connect.sink.SinkRecord;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.Document;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * CDC records as Debezium's MongoDB connector writes them ({@code capture.mode change_streams_update_full}, no Connect
 * schemas), as a sink task receives them through {@code ByteArrayConverter}: the key {@code {"id": "<extended JSON
 * _id>"}}, the value the envelope with {@code after} as an extended-JSON string.
 */
final class CdcRecords {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Keys write a {@code NumberLong} as a plain number. */
    private static final JsonWriterSettings RELAXED = JsonWriterSettings.builder().outputMode(JsonMode.RELAXED).build();
    /** Post-images keep every type. */
    private static final JsonWriterSettings EXTENDED = JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();

    private final String shardId;
    /** The cluster time's increment of the next record, within one second: records carry increasing cluster times. */
    private int ord;
    /** The second every record is from (Debezium's ts_ms), so that only {@code ord} tells them apart. */
    static final long SECOND = 1_764_547_200_000L;

    CdcRecords(String shardId) {
        this.shardId = shardId;
    }

    String topic(String namespace) {
        return "cdc." + shardId + "." + namespace;
    }

    /** A create ({@code c}), update ({@code u}) or snapshot read ({@code r}) with its post-image. */
    SinkRecord change(String namespace, long offset, String op, Document after) {
        return record(namespace, offset, key(after.toBsonDocument().get("_id")), envelope(namespace, op, after.toJson(EXTENDED)));
    }

    /** A delete of the document {@code id}. */
    SinkRecord delete(String namespace, long offset, BsonValue id) {
        return record(namespace, offset, key(id), envelope(namespace, "d", null));
    }

    /** An update whose post-image the connector could not read. */
    SinkRecord updateWithoutImage(String namespace, long offset, BsonValue id) {
        return record(namespace, offset, key(id), envelope(namespace, "u", null));
    }

    /** The tombstone a connector that writes them sends after a delete. */
    SinkRecord tombstone(String namespace, long offset, BsonValue id) {
        return record(namespace, offset, key(id), null);
    }

    SinkRecord record(String namespace, long offset, byte[] key, byte[] value) {
        return new SinkRecord(topic(namespace), 0, null, key, null, value, offset);
    }

    static byte[] key(BsonValue id) {
        String extendedJson = new BsonDocument("v", id).toJson(RELAXED);
        String value = extendedJson.substring(extendedJson.indexOf(':') + 1, extendedJson.lastIndexOf('}')).trim();
        return json(JSON.createObjectNode().put("id", value));
    }

    byte[] envelope(String namespace, String op, String after) {
        long now = SECOND;
        ObjectNode source = JSON.createObjectNode().put("version", "3.6.1.Final").put("connector", "mongodb").put("name", "cdc." + shardId)
            .put("ts_ms", now).put("snapshot", "r".equals(op) ? "true" : "false").put("db", namespace.substring(0, namespace.indexOf('.')))
            .put("collection", namespace.substring(namespace.indexOf('.') + 1)).put("wallTime", now).put("ord", ++ord);
        ObjectNode envelope = JSON.createObjectNode();
        envelope.putNull("before");
        if (after == null) {
            envelope.putNull("after");
        } else {
            envelope.put("after", after);
        }
        envelope.putNull("updateDescription");
        envelope.set("source", source);
        envelope.put("op", op).put("ts_ms", now).putNull("transaction");
        return json(envelope);
    }

    private static byte[] json(ObjectNode node) {
        return node.toString().getBytes(StandardCharsets.UTF_8);
    }
}
