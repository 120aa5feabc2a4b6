package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import io.shardline.bson.ValueOrder;

/**
 * The union of several shards' {@code distinct} answers, one value per class of MongoDB's equality ({@link ValueOrder}
 * holds them equal): 1, 1L, 1.0 and Decimal128 1 are one value, -0.0 is 0, NaN is one value, strings by their
 * characters (no collation), dates by their instant, embedded documents field by field in their order, arrays
 * element by element, null once. Of equal values the first one added is kept, in the order added: MongoDB does not
 * specify the order of a distinct answer.
 */
public final class DistinctValues {

    private final TreeSet<Object> seen = new TreeSet<>(ValueOrder.INSTANCE);
    private final List<Object> values = new ArrayList<>();

    /** Adds a value unless an equal one is there. */
    public void add(Object value) {
        if (seen.add(value)) {
            values.add(value);
        }
    }

    public List<Object> values() {
        return new ArrayList<>(values);
    }
}
