package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.bson.Document;

import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.ShardKey;

/**
 * Orders documents by a MongoDB sort specification the way MongoDB orders the values: across types by BSON type
 * order, numbers numerically whatever their type, missing fields as null. Used to merge the sorted streams of
 * several shards.
 */
public final class DocumentOrder implements Comparator<Document> {

    private record Key(String path, int direction) {
    }

    private final List<Key> keys = new ArrayList<>();

    public DocumentOrder(Document sort) {
        for (Map.Entry<String, Object> entry : sort.entrySet()) {
            if (!(entry.getValue() instanceof Number number) || Math.abs(number.intValue()) != 1) {
                throw new io.shardline.router.api.RouterException(io.shardline.router.api.RouterException.Kind.BAD_REQUEST,
                    "sort: direction of '" + entry.getKey() + "' must be 1 or -1, was " + entry.getValue());
            }
            keys.add(new Key(entry.getKey(), number.intValue()));
        }
    }

    public List<String> paths() {
        return keys.stream().map(Key::path).toList();
    }

    @Override
    public int compare(Document a, Document b) {
        for (Key key : keys) {
            int cmp = orderKey(value(a, key.path())).compareTo(orderKey(value(b, key.path())));
            if (cmp != 0) {
                return cmp * key.direction();
            }
        }
        return 0;
    }

    static Object value(Document document, String path) {
        Object current = document;
        for (String segment : path.split("\\.")) {
            if (!(current instanceof Map<?, ?> map)) {
                return null;
            }
            current = map.get(segment);
        }
        return current;
    }

    private static ShardKey orderKey(Object value) {
        try {
            return KeyEncoding.encode(value);
        } catch (IllegalArgumentException unorderable) {
            // Documents and arrays as sort values: ordered after every scalar, by their JSON text.
            return KeyEncoding.encodeTuple(List.of(new org.bson.types.MaxKey(), String.valueOf(value)));
        }
    }
}
