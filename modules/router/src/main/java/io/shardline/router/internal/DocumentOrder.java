package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import org.bson.Document;

/**
 * Orders documents by a MongoDB sort specification as MongoDB does: each sort key is the value at its path (through
 * arrays of documents; missing counts as null), an array by its smallest element in an ascending sort and its largest
 * in a descending one (an empty array before null), and the keys compared in {@link ValueOrder}. Used to merge the
 * sorted streams of several shards and for a {@code $sort} the router runs itself.
 */
public final class DocumentOrder implements Comparator<Document> {

    /** The sort key of an empty array: after MinKey, before null. */
    private static final Object EMPTY_ARRAY = new Object();

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
            int cmp = compareKeys(sortKey(a, key), sortKey(b, key));
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

    /** The value a document sorts by on one key: the smallest (ascending) or largest (descending) candidate. */
    private static Object sortKey(Document document, Key key) {
        List<Object> candidates = new ArrayList<>();
        collect(document, key.segments(), 0, candidates);
        Object best = null;
        boolean first = true;
        for (Object candidate : candidates) {
            if (first || compareKeys(candidate, best) * key.direction() < 0) {
                best = candidate;
                first = false;
            }
        }
        return best;
    }

    /** The values at {@code segments[index..]} below {@code current}, as MongoDB's sort and index keys see them. */
    private static void collect(Object current, String[] segments, int index, List<Object> into) {
        if (index == segments.length) {
            if (current instanceof List<?> list) {
                if (list.isEmpty()) {
                    into.add(EMPTY_ARRAY);
                } else {
                    into.addAll(list);
                }
            } else {
                into.add(current);
            }
            return;
        }
        if (current instanceof Map<?, ?> map) {
            collect(map.get(segments[index]), segments, index + 1, into);
        } else if (current instanceof List<?> list) {
            int before = into.size();
            Integer position = position(segments[index]);
            if (position != null && position < list.size()) {
                collect(list.get(position), segments, index + 1, into);
            }
            for (Object element : list) {
                if (element instanceof Map<?, ?>) {
                    collect(element, segments, index, into);
                }
            }
            if (into.size() == before) {
                into.add(null);
            }
        } else {
            into.add(null);
        }
    }

    private static Integer position(String segment) {
        if (segment.isEmpty() || segment.length() > 9 || !segment.chars().allMatch(Character::isDigit)) {
            return null;
        }
        return Integer.parseInt(segment);
    }

    private static int compareKeys(Object a, Object b) {
        if (a == EMPTY_ARRAY || b == EMPTY_ARRAY) {
            return Integer.compare(emptyRank(a), emptyRank(b));
        }
        return ValueOrder.INSTANCE.compare(a, b);
    }

    /** Where an empty array sorts among the types: after MinKey (0), before null (1). */
    private static int emptyRank(Object value) {
        return value == EMPTY_ARRAY ? 1 : ValueOrder.rank(value) * 2;
    }
}
