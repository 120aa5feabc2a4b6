package io.shardline.router.internal;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.bson.types.Decimal128;

/**
 * The union of several shards' {@code distinct} answers, one value per class of MongoDB's equality: numbers are equal
 * when their values are, whatever their types (1, 1L, 1.0 and Decimal128 1 are one value; -0.0 is 0; NaN is one
 * value), strings by their characters (no collation), dates by their instant, embedded documents field by field in
 * their order with this same equality, arrays element by element, null once. Of equal values the first one added is
 * kept, in the order added: MongoDB does not specify the order of a distinct answer.
 */
public final class DistinctValues {

    private enum Special { NULL, NAN, POSITIVE_INFINITY, NEGATIVE_INFINITY }

    private record NumberKey(BigDecimal value) {
    }

    private record StringKey(String value) {
    }

    private record DateKey(long millis) {
    }

    private record DocumentKey(List<Object> fieldsAndValues) {
    }

    private record ArrayKey(List<Object> elements) {
    }

    private record RegexKey(String pattern, int flags) {
    }

    private final Map<Object, Object> values = new LinkedHashMap<>();

    /** Adds a value unless an equal one is there. */
    public void add(Object value) {
        values.putIfAbsent(identity(value), value);
    }

    public List<Object> values() {
        return new ArrayList<>(values.values());
    }

    /** A key that two values share exactly when MongoDB holds them equal. */
    public static Object identity(Object value) {
        if (value == null) {
            return Special.NULL;
        }
        if (value instanceof Number number) {
            return number(number);
        }
        if (value instanceof CharSequence text) {
            return new StringKey(text.toString());
        }
        if (value instanceof Date date) {
            return new DateKey(date.getTime());
        }
        if (value instanceof Map<?, ?> document) {
            List<Object> fields = new ArrayList<>(document.size() * 2);
            document.forEach((key, field) -> {
                fields.add(String.valueOf(key));
                fields.add(identity(field));
            });
            return new DocumentKey(fields);
        }
        if (value instanceof List<?> array) {
            return new ArrayKey(array.stream().map(DistinctValues::identity).toList());
        }
        if (value instanceof Pattern regex) {
            return new RegexKey(regex.pattern(), regex.flags());
        }
        return value; // ObjectId, booleans, binary data, timestamps, MinKey, MaxKey: equal as their Java values are
    }

    private static Object number(Number number) {
        if (number instanceof Decimal128 decimal) {
            if (decimal.isNaN()) {
                return Special.NAN;
            }
            if (decimal.isInfinite()) {
                return decimal.isNegative() ? Special.NEGATIVE_INFINITY : Special.POSITIVE_INFINITY;
            }
            if (decimal.isNegative() && decimal.toString().matches("-0(\\.0*)?(E[+-]?\\d+)?")) {
                return new NumberKey(BigDecimal.ZERO); // BigDecimal has no negative zero
            }
            return new NumberKey(decimal.bigDecimalValue().stripTrailingZeros());
        }
        if (number instanceof Double || number instanceof Float) {
            double value = number.doubleValue();
            if (Double.isNaN(value)) {
                return Special.NAN;
            }
            if (Double.isInfinite(value)) {
                return value > 0 ? Special.POSITIVE_INFINITY : Special.NEGATIVE_INFINITY;
            }
            return new NumberKey(new BigDecimal(value).stripTrailingZeros());
        }
        if (number instanceof BigDecimal decimal) {
            return new NumberKey(decimal.stripTrailingZeros());
        }
        return new NumberKey(BigDecimal.valueOf(number.longValue()).stripTrailingZeros());
    }
}
