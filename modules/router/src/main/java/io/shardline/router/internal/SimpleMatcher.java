package io.shardline.router.internal;

import java.util.List;
import java.util.Map;

import org.bson.Document;

import io.shardline.bson.ValueOrder;
import io.shardline.router.api.NotSupportedException;
import io.shardline.router.api.RouterException;

/**
 * Evaluates a {@code $match} at the router, after a {@code $group}: equality and the comparison operators
 * ({@code $eq $ne $gt $gte $lt $lte $in $nin $exists}) on fields, combined by {@code $and}, {@code $or} and
 * {@code $nor}. Comparisons follow MongoDB's type brackets: a range only matches values of the operand's type. A path
 * that meets an array is refused (400): MongoDB's rules for arrays are the shards' to apply.
 */
public final class SimpleMatcher {

    private SimpleMatcher() {
    }

    public static boolean matches(Document document, Document filter) {
        for (Map.Entry<String, Object> entry : filter.entrySet()) {
            String key = entry.getKey();
            boolean ok = switch (key) {
                case "$and" -> branches(entry.getValue()).stream().allMatch(b -> matches(document, b));
                case "$or" -> branches(entry.getValue()).stream().anyMatch(b -> matches(document, b));
                case "$nor" -> branches(entry.getValue()).stream().noneMatch(b -> matches(document, b));
                default -> {
                    if (key.startsWith("$")) {
                        throw new NotSupportedException("pipeline: $match operator " + key
                            + " after a $group is not supported by the router");
                    }
                    yield field(document, key, entry.getValue());
                }
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    @SuppressWarnings("unchecked")
    private static List<Document> branches(Object value) {
        if (!(value instanceof List<?> list)) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "pipeline: $and/$or/$nor need an array");
        }
        return (List<Document>) list;
    }

    private static boolean field(Document document, String path, Object condition) {
        rejectArrays(document, path);
        Object value = DocumentOrder.value(document, path);
        boolean present = value != null || containsPath(document, path);
        if (condition instanceof Document operators && !operators.isEmpty() && operators.keySet().iterator().next().startsWith("$")) {
            for (Map.Entry<String, Object> op : operators.entrySet()) {
                Object operand = op.getValue();
                boolean ok = switch (op.getKey()) {
                    case "$eq" -> equal(value, operand);
                    case "$ne" -> !equal(value, operand);
                    case "$gt" -> sameBracket(value, operand) && compare(value, operand) > 0;
                    case "$gte" -> sameBracket(value, operand) && compare(value, operand) >= 0;
                    case "$lt" -> sameBracket(value, operand) && compare(value, operand) < 0;
                    case "$lte" -> sameBracket(value, operand) && compare(value, operand) <= 0;
                    case "$in" -> ((List<?>) operand).stream().anyMatch(o -> equal(value, o));
                    case "$nin" -> ((List<?>) operand).stream().noneMatch(o -> equal(value, o));
                    case "$exists" -> Boolean.TRUE.equals(operand) == present;
                    default -> throw new NotSupportedException(
                        "pipeline: $match operator " + op.getKey() + " after a $group is not supported by the router");
                };
                if (!ok) {
                    return false;
                }
            }
            return true;
        }
        return equal(value, condition);
    }

    /**
     * Refuses a path that meets an array: MongoDB matches an array by its elements and descends into arrays of
     * documents, which this matcher does not do; a refusal, not a wrong answer.
     */
    private static void rejectArrays(Document document, String path) {
        Object current = document;
        for (String segment : path.split("\\.")) {
            if (!(current instanceof Map<?, ?> map)) {
                return;
            }
            current = map.get(segment);
            if (current instanceof List<?>) {
                throw new RouterException(RouterException.Kind.BAD_REQUEST, "pipeline: $match on '" + path
                    + "' meets an array, which the router does not match itself (after a $group, $skip or $limit); match before them");
            }
        }
    }

    private static boolean containsPath(Document document, String path) {
        int dot = path.lastIndexOf('.');
        Object parent = dot < 0 ? document : DocumentOrder.value(document, path.substring(0, dot));
        return parent instanceof Map<?, ?> map && map.containsKey(dot < 0 ? path : path.substring(dot + 1));
    }

    private static boolean equal(Object a, Object b) {
        return ValueOrder.INSTANCE.same(a, b);
    }

    /** Range operators compare within one type bracket, as MongoDB's do ({@code $gt: 5} matches no string). */
    private static boolean sameBracket(Object value, Object operand) {
        if (value == null || operand == null) {
            return false;
        }
        return ValueOrder.rank(value) == ValueOrder.rank(operand);
    }

    private static int compare(Object a, Object b) {
        return ValueOrder.INSTANCE.compare(a, b);
    }
}
