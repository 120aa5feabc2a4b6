package io.shardline.bson;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bson.BsonUndefined;

/**
 * How a MongoDB sort reads a document's key at a path: the values at the path, through arrays of documents (an
 * element without the field counts as null; a missing path is null), an array at the end of the path by its elements,
 * and of those the smallest in an ascending sort, the largest in a descending one; an empty array is keyed as
 * undefined, after MinKey and before null. Keys are compared with {@link #compare}, {@link ValueOrder}.
 */
public final class SortKeys {

    /** The sort key of an empty array, as MongoDB keys it: undefined, after MinKey and before null. */
    private static final Object EMPTY_ARRAY = new BsonUndefined();

    private SortKeys() {
    }

    /**
     * The key {@code document} sorts by at a path.
     *
     * @param segments  the path split at its dots
     * @param direction 1 ascending, -1 descending
     */
    public static Object key(Map<?, ?> document, String[] segments, int direction) {
        List<Object> candidates = new ArrayList<>();
        collect(document, segments, 0, candidates);
        Object best = null;
        boolean first = true;
        for (Object candidate : candidates) {
            if (first || compare(candidate, best) * direction < 0) {
                best = candidate;
                first = false;
            }
        }
        return best;
    }

    /** Compares two keys {@link #key} returned. */
    public static int compare(Object a, Object b) {
        return ValueOrder.INSTANCE.compare(a, b);
    }

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
}
