package io.shardline.shard.internal;

import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.Map;

import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.bson.Document;

/**
 * The order of a {@code sort} as mongo-java-server defines it (each key's value read collection-aware, compared by its
 * value comparator, ascending or descending), with each document's sort values read once. mongo-java-server reads
 * them again, splitting the key paths anew, in every one of the n·log n comparisons of a sort: a migration's sorted
 * range scans spent most of the shard's time there.
 *
 * <p>One instance serves one sort (it remembers the documents it has seen).
 */
final class KeyedSort implements Comparator<Document> {

    private final String[] keys;
    private final ValueComparator[] orders;
    private final Map<Document, Object[]> values = new IdentityHashMap<>();

    private KeyedSort(Document orderBy) {
        keys = orderBy.keySet().toArray(new String[0]);
        orders = new ValueComparator[keys.length];
        for (int i = 0; i < keys.length; i++) {
            orders[i] = ((Number) orderBy.get(keys[i])).intValue() > 0 ? ValueComparator.asc() : ValueComparator.desc();
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
            int order = orders[i].compare(left[i], right[i]);
            if (order != 0) {
                return order;
            }
        }
        return 0;
    }

    private Object[] read(Document document) {
        Object[] read = new Object[keys.length];
        for (int i = 0; i < keys.length; i++) {
            read[i] = Utils.getSubdocumentValueCollectionAware(document, keys[i]);
        }
        return read;
    }
}
