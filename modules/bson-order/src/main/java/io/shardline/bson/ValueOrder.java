package io.shardline.bson;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

import org.bson.BsonRegularExpression;
import org.bson.BsonTimestamp;
import org.bson.BsonUndefined;
import org.bson.types.Binary;
import org.bson.types.Code;
import org.bson.types.Decimal128;
import org.bson.types.MaxKey;
import org.bson.types.MinKey;
import org.bson.types.ObjectId;
import org.bson.types.Symbol;

/**
 * MongoDB's order of BSON values, for every value the router compares itself (a merge of sorted streams, a
 * {@code $sort} after a split pipeline, {@code $min}/{@code $max}, group keys). Values are the driver's Java
 * decodings ({@code Document}, {@code List}, {@code Integer}, {@code Date}...).
 *
 * <p>First the type, in BSON's canonical order: MinKey, null (and missing and undefined), numbers, strings (and
 * symbols), documents, arrays, binary data, ObjectId, booleans, dates, timestamps, regular expressions, code,
 * MaxKey. Then within a type: numbers by value whatever their type (int, long, double, decimal; NaN before every
 * other number), strings by their UTF-8 bytes (no collation), documents field by field (the type of the value, then
 * the name, then the value; a prefix first), arrays element by element, binary data by length then subtype then
 * bytes, timestamps unsigned. This is the order of whole values; how a sort treats an array field (by its smallest
 * or largest element) is {@link DocumentOrder}'s.
 */
public final class ValueOrder implements Comparator<Object> {

    public static final ValueOrder INSTANCE = new ValueOrder();

    private ValueOrder() {
    }

    @Override
    public int compare(Object a, Object b) {
        int types = Integer.compare(rank(a), rank(b));
        if (types != 0) {
            return types;
        }
        return switch (rank(a)) {
            case 0, 1, 13 -> 0;
            case 2 -> compareNumbers((Number) a, (Number) b);
            case 3 -> compareStrings(text(a), text(b));
            case 4 -> compareDocuments((Map<?, ?>) a, (Map<?, ?>) b);
            case 5 -> compareArrays((List<?>) a, (List<?>) b);
            case 6 -> compareBinary(binary(a), binary(b));
            case 7 -> Arrays.compareUnsigned(((ObjectId) a).toByteArray(), ((ObjectId) b).toByteArray());
            case 8 -> Boolean.compare((Boolean) a, (Boolean) b);
            case 9 -> Long.compare(((Date) a).getTime(), ((Date) b).getTime());
            case 10 -> Long.compareUnsigned(((BsonTimestamp) a).getValue(), ((BsonTimestamp) b).getValue());
            case 11 -> compareRegex(regex(a), regex(b));
            case 12 -> compareStrings(((Code) a).getCode(), ((Code) b).getCode());
            default -> throw new IllegalStateException("no order for " + a.getClass().getName());
        };
    }

    /** True when MongoDB holds the two values equal ({@code 1}, {@code 1L} and {@code 1.0} are one value). */
    public boolean same(Object a, Object b) {
        return compare(a, b) == 0;
    }

    /**
     * The canonical type rank of a value, MongoDB's {@code canonicalizeBSONType}.
     *
     * @throws IllegalArgumentException for a Java type that is no BSON value
     */
    public static int rank(Object value) {
        if (value instanceof MinKey) {
            return 0;
        }
        if (value == null || value instanceof BsonUndefined) {
            return 1;
        }
        if (value instanceof Integer || value instanceof Long || value instanceof Double || value instanceof Decimal128
            || value instanceof Float || value instanceof Short || value instanceof Byte || value instanceof BigDecimal) {
            return 2;
        }
        if (value instanceof String || value instanceof Symbol) {
            return 3;
        }
        if (value instanceof Map<?, ?>) {
            return 4;
        }
        if (value instanceof List<?>) {
            return 5;
        }
        if (value instanceof Binary || value instanceof byte[] || value instanceof UUID) {
            return 6;
        }
        if (value instanceof ObjectId) {
            return 7;
        }
        if (value instanceof Boolean) {
            return 8;
        }
        if (value instanceof Date) {
            return 9;
        }
        if (value instanceof BsonTimestamp) {
            return 10;
        }
        if (value instanceof BsonRegularExpression || value instanceof Pattern) {
            return 11;
        }
        if (value instanceof Code) {
            return 12;
        }
        if (value instanceof MaxKey) {
            return 13;
        }
        throw new IllegalArgumentException("not a BSON value the router orders: " + value.getClass().getName());
    }

    static int compareNumbers(Number a, Number b) {
        boolean nanA = isNaN(a);
        boolean nanB = isNaN(b);
        if (nanA || nanB) {
            return Boolean.compare(!nanA, !nanB);
        }
        int infA = infinity(a);
        int infB = infinity(b);
        if (infA != 0 || infB != 0) {
            return Integer.compare(infA, infB);
        }
        if (a instanceof Integer || a instanceof Long || a instanceof Short || a instanceof Byte) {
            if (b instanceof Integer || b instanceof Long || b instanceof Short || b instanceof Byte) {
                return Long.compare(a.longValue(), b.longValue());
            }
        }
        return exact(a).compareTo(exact(b));
    }

    private static boolean isNaN(Number n) {
        return (n instanceof Double d && d.isNaN()) || (n instanceof Float f && f.isNaN()) || (n instanceof Decimal128 d && d.isNaN());
    }

    /** -1, 1 or 0 for negative infinity, positive infinity or a finite number. */
    private static int infinity(Number n) {
        if (n instanceof Double d && d.isInfinite()) {
            return d > 0 ? 1 : -1;
        }
        if (n instanceof Float f && f.isInfinite()) {
            return f > 0 ? 1 : -1;
        }
        if (n instanceof Decimal128 d && d.isInfinite()) {
            return d.isNegative() ? -1 : 1;
        }
        return 0;
    }

    private static BigDecimal exact(Number n) {
        if (n instanceof Decimal128 d) {
            // From the text: bigDecimalValue() refuses a negative zero (of any exponent), which equals zero.
            return new BigDecimal(d.toString());
        }
        if (n instanceof BigDecimal d) {
            return d;
        }
        if (n instanceof Double || n instanceof Float) {
            return new BigDecimal(n.doubleValue());
        }
        return BigDecimal.valueOf(n.longValue());
    }

    /** Binary comparison of the UTF-8 encodings, which is the order of code points. */
    static int compareStrings(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    }

    private int compareDocuments(Map<?, ?> a, Map<?, ?> b) {
        Iterator<? extends Map.Entry<?, ?>> left = a.entrySet().iterator();
        Iterator<? extends Map.Entry<?, ?>> right = b.entrySet().iterator();
        while (left.hasNext() && right.hasNext()) {
            Map.Entry<?, ?> x = left.next();
            Map.Entry<?, ?> y = right.next();
            int cmp = Integer.compare(rank(x.getValue()), rank(y.getValue()));
            if (cmp == 0) {
                cmp = compareStrings(String.valueOf(x.getKey()), String.valueOf(y.getKey()));
            }
            if (cmp == 0) {
                cmp = compare(x.getValue(), y.getValue());
            }
            if (cmp != 0) {
                return cmp;
            }
        }
        return Boolean.compare(left.hasNext(), right.hasNext());
    }

    private int compareArrays(List<?> a, List<?> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int cmp = compare(a.get(i), b.get(i));
            if (cmp != 0) {
                return cmp;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    private static int compareBinary(Binary a, Binary b) {
        int cmp = Integer.compare(a.length(), b.length());
        if (cmp == 0) {
            cmp = Integer.compare(Byte.toUnsignedInt(a.getType()), Byte.toUnsignedInt(b.getType()));
        }
        return cmp != 0 ? cmp : Arrays.compareUnsigned(a.getData(), b.getData());
    }

    private static int compareRegex(BsonRegularExpression a, BsonRegularExpression b) {
        int cmp = compareStrings(a.getPattern(), b.getPattern());
        return cmp != 0 ? cmp : compareStrings(a.getOptions(), b.getOptions());
    }

    private static String text(Object value) {
        return value instanceof Symbol symbol ? symbol.getSymbol() : (String) value;
    }

    private static Binary binary(Object value) {
        if (value instanceof byte[] bytes) {
            return new Binary(bytes);
        }
        if (value instanceof UUID uuid) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(16);
            buffer.putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits());
            return new Binary((byte) 4, buffer.array());
        }
        return (Binary) value;
    }

    private static BsonRegularExpression regex(Object value) {
        if (value instanceof Pattern pattern) {
            return new BsonRegularExpression(pattern.pattern());
        }
        return (BsonRegularExpression) value;
    }
}
