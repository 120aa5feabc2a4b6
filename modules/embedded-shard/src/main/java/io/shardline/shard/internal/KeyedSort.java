package io.shardline.shard.internal;

import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.Map;

import de.bwaldvogel.mongo.bson.Document;
import io.shardline.bson.SortKeys;

/**
 * The order of a {@code sort} as MongoDB defines it ({@link SortKeys}: arrays by their smallest or largest element,
 * an empty array before null, missing as null, values in BSON's order: mongo-java-server's own comparator departs
 * from it for arrays, nested arrays and ties between empty arrays), with each document's sort keys read once.
 * mongo-java-server reads them again, splitting the key paths anew, in every one of the n·log n comparisons of a
 * sort: a migration's sorted range scans spent most of the shard's time there.
 *
 * <p>One instance serves one sort (it remembers the documents it has seen).
 */
final class KeyedSort implements Comparator<Document> {

    private final String[][] keys;
    private final int[] directions;
    private final Map<Document, Object[]> values = new IdentityHashMap<>();

    private KeyedSort(Document orderBy) {
        String[] paths = orderBy.keySet().toArray(new String[0]);
        keys = new String[paths.length][];
        directions = new int[paths.length];
        for (int i = 0; i < paths.length; i++) {
            keys[i] = paths[i].split("\\.");
            directions[i] = ((Number) orderBy.get(paths[i])).intValue() > 0 ? 1 : -1;
        }
    }

    /** A comparator for {@code orderBy}, or {@code null} when it is not a plain key order ({@code $natural}, {@code $meta}). */
    static KeyedSort of(Document orderBy) {
        if (orderBy == null || orderBy.isEmpty() || orderBy.containsKey("$natural")
            || orderBy.values().stream().anyMatch(direction -> !(direction instanceof Number))) {
            return null;
        }
        return new KeyedSort(orderBy);
    }

    @Override
    public int compare(Document a, Document b) {
        Object[] left = values.computeIfAbsent(a, this::read);
        Object[] right = values.computeIfAbsent(b, this::read);
        for (int i = 0; i < keys.length; i++) {
            int order = SortKeys.compare(left[i], right[i]) * directions[i];
            if (order != 0) {
                return order;
            }
        }
        return 0;
    }

    /** The document's sort keys, from the driver's view of the top-level fields the keys start with. */
    private Object[] read(Document document) {
        Map<String, Object> fields = new java.util.HashMap<>();
        for (String[] key : keys) {
            fields.computeIfAbsent(key[0], name -> DriverValues.of(document.get(name)));
        }
        Object[] read = new Object[keys.length];
        for (int i = 0; i < keys.length; i++) {
            read[i] = SortKeys.key(fields, keys[i], directions[i]);
        }
        return read;
    }
}
