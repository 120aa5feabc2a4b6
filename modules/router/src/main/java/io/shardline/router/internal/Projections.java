package io.shardline.router.internal;

import java.util.Collection;
import java.util.Map;

import org.bson.Document;

/**
 * Projection pushdown: what each shard is asked for (the caller's projection, plus the sort fields the merge
 * needs), and what the router strips before answering (those added fields and the stored shard key).
 */
public final class Projections {

    private Projections() {
    }

    public static boolean isInclusion(Document projection) {
        if (projection == null) {
            return false;
        }
        for (Map.Entry<String, Object> entry : projection.entrySet()) {
            if (entry.getKey().equals("_id")) {
                continue;
            }
            Object value = entry.getValue();
            if (value instanceof Number number) {
                return number.intValue() != 0;
            }
            if (value instanceof Boolean bool) {
                return bool;
            }
            return true; // expressions and $slice-like operators count as inclusion
        }
        return false;
    }

    /** The projection sent to the shards. */
    public static Document forShards(Document projection, Collection<String> sortPaths) {
        if (projection == null || projection.isEmpty()) {
            return new Document(ShardKeyField.NAME, 0);
        }
        Document pushed = new Document(projection);
        boolean inclusion = isInclusion(projection);
        for (String path : sortPaths) {
            if (path.equals("_id") || !inclusion) {
                pushed.remove(path); // _id comes by default; an excluded sort field must still reach the merge
            }
            if (inclusion && !path.equals("_id")) {
                pushed.putIfAbsent(path, 1);
            }
        }
        if (inclusion) {
            pushed.remove(ShardKeyField.NAME);
        } else {
            pushed.put(ShardKeyField.NAME, 0);
        }
        return pushed;
    }

    /** Removes from a merged document what the caller did not ask for. */
    public static Document finish(Document document, Document projection, Collection<String> sortPaths) {
        document.remove(ShardKeyField.NAME);
        if (projection == null || projection.isEmpty()) {
            return document;
        }
        boolean inclusion = isInclusion(projection);
        for (String path : sortPaths) {
            boolean excluded = projection.containsKey(path) && isZero(projection.get(path));
            boolean notIncluded = inclusion && !path.equals("_id") && !projection.containsKey(path);
            if (excluded || notIncluded) {
                remove(document, path);
            }
        }
        return document;
    }

    private static boolean isZero(Object value) {
        return (value instanceof Number n && n.intValue() == 0) || Boolean.FALSE.equals(value);
    }

    private static void remove(Document document, String path) {
        int dot = path.indexOf('.');
        if (dot < 0) {
            document.remove(path);
        } else if (document.get(path.substring(0, dot)) instanceof Document nested) {
            remove(nested, path.substring(dot + 1));
            if (nested.isEmpty()) {
                document.remove(path.substring(0, dot));
            }
        }
    }
}
