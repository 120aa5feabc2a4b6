package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bson.Document;

import io.shardline.router.api.RouterException;

/**
 * The part of a find projection the router applies to merged documents, with MongoDB's semantics for find
 * projections. An inclusion keeps the named paths: through an embedded document it keeps that document with only
 * the named sub-paths (an empty document if it has none of them), through an array it applies the rest of the path
 * to every element (nested arrays included) and drops the elements that are not documents or arrays, and a value that
 * is neither leaves the field out. An exclusion removes the named paths through documents and arrays alike and leaves
 * everything else, scalars in arrays included. {@code $slice} keeps the first n, the last n or [skip, limit] elements
 * of an array and leaves any other value as it is. Fields keep the document's order.
 */
public final class ProjectionTrim {

    private static final Object MISSING = new Object();

    /** One path segment: a leaf (keep or remove the whole value), a {@code $slice}, or the parent of further segments. */
    private static final class Node {
        final Map<String, Node> children = new LinkedHashMap<>();
        boolean leaf;
        Object slice;
    }

    private final boolean inclusion;
    private final Node root = new Node();

    private ProjectionTrim(boolean inclusion) {
        this.inclusion = inclusion;
    }

    /** Keeps {@code paths}, {@code _id} when {@code withId}, and the top-level {@code slices} sliced. */
    static ProjectionTrim inclusion(Collection<String> paths, Map<String, Object> slices, boolean withId) {
        ProjectionTrim trim = new ProjectionTrim(true);
        if (withId) {
            trim.add("_id").leaf = true;
        }
        paths.forEach(path -> trim.add(path).leaf = true);
        slices.forEach((path, slice) -> trim.add(path).slice = slice);
        return trim;
    }

    /** Removes {@code paths} and slices the top-level {@code slices}. */
    static ProjectionTrim exclusion(Collection<String> paths, Map<String, Object> slices) {
        ProjectionTrim trim = new ProjectionTrim(false);
        paths.forEach(path -> trim.add(path).leaf = true);
        slices.forEach((path, slice) -> trim.add(path).slice = slice);
        return trim;
    }

    private Node add(String path) {
        Node node = root;
        for (String segment : path.split("\\.")) {
            node = node.children.computeIfAbsent(segment, s -> new Node());
        }
        return node;
    }

    /** The document as the projection returns it (a new document; the argument is left as it was). */
    public Document apply(Document document) {
        return inclusion ? include(document, root) : exclude(document, root);
    }

    private static Document include(Map<?, ?> document, Node node) {
        Document result = new Document();
        for (Map.Entry<?, ?> entry : document.entrySet()) {
            Node child = node.children.get(String.valueOf(entry.getKey()));
            if (child == null) {
                continue;
            }
            Object value = child.slice != null ? slice(entry.getValue(), child.slice)
                : child.leaf ? entry.getValue() : includeValue(entry.getValue(), child);
            if (value != MISSING) {
                result.put(String.valueOf(entry.getKey()), value);
            }
        }
        return result;
    }

    private static Object includeValue(Object value, Node node) {
        if (value instanceof Map<?, ?> map) {
            return include(map, node);
        }
        if (value instanceof List<?> list) {
            List<Object> kept = new ArrayList<>(list.size());
            for (Object element : list) {
                Object projected = includeValue(element, node);
                if (projected != MISSING) {
                    kept.add(projected);
                }
            }
            return kept;
        }
        return MISSING;
    }

    private static Document exclude(Map<?, ?> document, Node node) {
        Document result = new Document();
        for (Map.Entry<?, ?> entry : document.entrySet()) {
            String key = String.valueOf(entry.getKey());
            Node child = node.children.get(key);
            if (child == null) {
                result.put(key, entry.getValue());
            } else if (child.slice != null) {
                result.put(key, slice(entry.getValue(), child.slice));
            } else if (!child.leaf) {
                result.put(key, excludeValue(entry.getValue(), child));
            }
        }
        return result;
    }

    private static Object excludeValue(Object value, Node node) {
        if (value instanceof Map<?, ?> map) {
            return exclude(map, node);
        }
        if (value instanceof List<?> list) {
            List<Object> kept = new ArrayList<>(list.size());
            list.forEach(element -> kept.add(excludeValue(element, node)));
            return kept;
        }
        return value;
    }

    /** Refuses a {@code $slice} argument other than an integer or [skip, positive limit] of integers. */
    static void checkSlice(String path, Object spec) {
        boolean valid = integral(spec)
            || (spec instanceof List<?> pair && pair.size() == 2 && integral(pair.get(0)) && integral(pair.get(1))
                && ((Number) pair.get(1)).longValue() > 0);
        if (!valid) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "projection." + path
                + ": $slice takes an integer or [skip, limit] with a positive limit, was " + spec);
        }
    }

    private static boolean integral(Object value) {
        return value instanceof Integer || value instanceof Long;
    }

    static Object slice(Object value, Object spec) {
        if (!(value instanceof List<?> list)) {
            return value;
        }
        long size = list.size();
        long from;
        long to;
        if (spec instanceof List<?> pair) {
            long skip = ((Number) pair.get(0)).longValue();
            from = skip < 0 ? Math.max(0, size + skip) : Math.min(skip, size);
            to = from + Math.min(size - from, ((Number) pair.get(1)).longValue());
        } else {
            long n = ((Number) spec).longValue();
            from = n < 0 ? Math.max(0, size + n) : 0;
            to = n < 0 ? size : Math.min(n, size);
        }
        return new ArrayList<>(list.subList((int) from, (int) to));
    }
}
