package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.bson.Document;

import io.shardline.bson.SortKeys;

/**
 * Orders documents by a MongoDB sort specification as MongoDB does ({@link SortKeys}: arrays by their smallest or
 * largest element, missing as null, values in {@link io.shardline.bson.ValueOrder}). Used to merge the sorted streams
 * of several shards and for a {@code $sort} the router runs itself.
 */
public final class DocumentOrder implements Comparator<Document> {

    private record Key(String path, String[] segments, int direction) {
    }

    private final List<Key> keys = new ArrayList<>();

    public DocumentOrder(Document sort) {
        for (Map.Entry<String, Object> entry : sort.entrySet()) {
            if (!(entry.getValue() instanceof Number number) || Math.abs(number.intValue()) != 1) {
                throw new io.shardline.router.api.RouterException(io.shardline.router.api.RouterException.Kind.BAD_REQUEST,
                    "sort: direction of '" + entry.getKey() + "' must be 1 or -1, was " + entry.getValue());
            }
            keys.add(new Key(entry.getKey(), entry.getKey().split("\\."), number.intValue()));
        }
    }

    public List<String> paths() {
        return keys.stream().map(Key::path).toList();
    }

    @Override
    public int compare(Document a, Document b) {
        for (Key key : keys) {
            int cmp = SortKeys.compare(SortKeys.key(a, key.segments(), key.direction()), SortKeys.key(b, key.segments(), key.direction()));
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
}
