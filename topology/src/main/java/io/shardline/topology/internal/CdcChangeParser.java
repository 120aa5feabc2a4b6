package io.shardline.topology.internal;

import org.bson.Document;
import org.bson.RawBsonDocument;
import org.bson.codecs.DocumentCodec;
import org.bson.json.JsonParseException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Reads Debezium MongoDB change records as the embedded cluster writes them: topic {@code <prefix>.<shard>.<db>.<coll>},
 * key {@code {"id": "<_id as extended JSON>"}}, value the JSON envelope with {@code op} and {@code after}
 * (the post-image as extended JSON). Anything else is a {@link MalformedCdcRecordException} naming the field.
 */
public final class CdcChangeParser {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final String topicPrefix;

    /** @param topicPrefix the CDC topic prefix without the trailing dot, e.g. {@code cdc} */
    public CdcChangeParser(String topicPrefix) {
        this.topicPrefix = topicPrefix;
    }

    public CdcChange parse(String topic, String key, String value) {
        String[] location = location(topic);
        String documentKey = documentKey(key);
        JsonNode envelope = json(value, "value");
        JsonNode op = envelope.get("op");
        if (op == null || !op.isTextual()) {
            throw new MalformedCdcRecordException("op", "missing or not a string");
        }
        CdcChange.Op kind = CdcChange.Op.fromCode(op.asText());
        int size = -1;
        Document postImage = null;
        if (kind != CdcChange.Op.DELETE) {
            JsonNode after = envelope.get("after");
            if (after == null || !after.isTextual()) {
                throw new MalformedCdcRecordException("after", "a " + kind.name().toLowerCase() + " needs the post-image as an extended-JSON string");
            }
            postImage = postImage(after.asText());
            size = new RawBsonDocument(postImage, new DocumentCodec()).getByteBuffer().remaining();
        }
        return new CdcChange(location[0], location[1], documentKey, kind, size, postImage);
    }

    private String[] location(String topic) {
        String prefix = topicPrefix + ".";
        if (topic == null || !topic.startsWith(prefix)) {
            throw new MalformedCdcRecordException("topic", "'" + topic + "' is not a CDC topic under " + prefix);
        }
        String rest = topic.substring(prefix.length());
        int firstDot = rest.indexOf('.');
        int secondDot = firstDot < 0 ? -1 : rest.indexOf('.', firstDot + 1);
        if (firstDot <= 0 || secondDot <= firstDot + 1 || secondDot == rest.length() - 1) {
            throw new MalformedCdcRecordException("topic", "'" + topic + "' is not " + prefix + "<shard>.<db>.<collection>");
        }
        return new String[] {rest.substring(0, firstDot), rest.substring(firstDot + 1)};
    }

    private static String documentKey(String key) {
        JsonNode id = json(key, "key").get("id");
        if (id == null || !id.isTextual() || id.asText().isEmpty()) {
            throw new MalformedCdcRecordException("key.id", "missing; Debezium keys carry the document _id as 'id'");
        }
        return id.asText();
    }

    private static JsonNode json(String text, String field) {
        if (text == null) {
            throw new MalformedCdcRecordException(field, "is null");
        }
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || !node.isObject()) {
                throw new MalformedCdcRecordException(field, "is not a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new MalformedCdcRecordException(field, "is not JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static Document postImage(String extendedJson) {
        try {
            return Document.parse(extendedJson);
        } catch (JsonParseException | org.bson.BsonInvalidOperationException e) {
            throw new MalformedCdcRecordException("after", "is not an extended-JSON document: " + e.getMessage(), e);
        }
    }
}
