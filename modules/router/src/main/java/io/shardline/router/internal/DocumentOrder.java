package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.bson.Document;

import io.shardline.bson.SortKeys;

/**
 * Orders documents by a MongoDB sort specification as MongoDB does ({@link SortKeys}: arrays by their smallest or
 * largest element, missing as null, values in {@link io.shardline.bson.ValueOrder}). Used to merge the sorted streams
 * of several shards and for a {@code $sort} the router runs itself. Each document's keys are read once (a merge or a
 * sort compares a document many times), so one instance serves one merge or sort: it remembers the documents it saw.
 */
public final class DocumentOrder implements Comparator<Document> {

    private record Key(String path, String[] segments, int direction) {
    }

    private final List<Key> keys = new ArrayList<>();
    private final Map<Document, Object[]> read = new IdentityHashMap<>();

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
        Object[] left = read.computeIfAbsent(a, this::sortKeys);
        Object[] right = read.computeIfAbsent(b, this::sortKeys);
        for (int i = 0; i < keys.size(); i++) {
            int cmp = SortKeys.compare(left[i], right[i]);
            if (cmp != 0) {
                return cmp * keys.get(i).direction();
            }
        }
        return 0;
    }

    private Object[] sortKeys(Document document) {
        Object[] values = new Object[keys.size()];
        for (int i = 0; i < values.length; i++) {
            Key key = keys.get(i);
            values[i] = SortKeys.key(document, key.segments(), key.direction());
        }
        return values;
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
