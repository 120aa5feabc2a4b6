package io.shardline.core.key;

import java.util.List;
import java.util.Map;

/**
 * How the documents of one namespace are placed: which fields form the shard key and how they are turned
 * into an encoded {@link ShardKey}.
 */
public interface ShardKeyStrategy {

    /** The document fields this strategy reads, in order. */
    List<String> fields();

    /**
     * The encoded key of a document.
     *
     * @throws ShardKeyException naming the field when a shard-key field is missing or unusable
     */
    ShardKey keyOf(Map<String, ?> document);

    /**
     * The smallest range holding every document whose leading shard-key field equals {@code value}
     * (for example all documents of one tenant), used to target equality filters.
     */
    KeyRange rangeOfLeadingValue(Object value);

    /** Reads a possibly dotted field path from a document; {@code null} when any segment is absent. */
    static Object fieldValue(Map<String, ?> document, String path) {
        Object current = document;
        for (String segment : path.split("\\.")) {
            if (!(current instanceof Map<?, ?> map) || !map.containsKey(segment)) {
                return null;
            }
            current = map.get(segment);
        }
        return current;
    }

    /** Reads a required field or fails with an error naming it. */
    static Object requiredField(Map<String, ?> document, String path) {
        Object value = fieldValue(document, path);
        if (value == null) {
            throw new ShardKeyException(path, "missing from the document (every document must carry its shard key)");
        }
        return value;
    }
}
