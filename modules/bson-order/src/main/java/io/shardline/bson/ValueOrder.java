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

import org.bson.BsonDbPointer;
import org.bson.BsonRegularExpression;
import org.bson.BsonTimestamp;
import org.bson.BsonUndefined;
import org.bson.types.Binary;
import org.bson.types.Code;
import org.bson.types.CodeWithScope;
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
 * <p>First the type, in BSON's canonical order: MinKey, undefined, null (and missing), numbers, strings (and
 * symbols), documents, arrays, binary data, ObjectId, booleans, dates, timestamps, regular expressions, DBPointer,
 * code, code with scope, MaxKey. Then within a type: numbers by value whatever their type (int, long, double, decimal; NaN before every
 * other number), strings by their UTF-8 bytes (no collation), documents field by field (the type of the value, then
 * the name, then the value; a prefix first), arrays element by element, binary data by length then subtype then
 * bytes, timestamps unsigned. This is the order of whole values; how a sort treats an array field (by its smallest
 * or largest element) is {@link SortKeys}'.
 */
public final class ValueOrder implements Comparator<Object> {

    public static final ValueOrder INSTANCE = new ValueOrder();

    /** Type ranks in BSON's canonical order (MongoDB's {@code canonicalizeBSONType}). */
    public static final int MIN_KEY = 0;
    public static final int UNDEFINED = 1;
    public static final int NULL = 2;
    public static final int NUMBER = 3;
    public static final int STRING = 4;
    public static final int DOCUMENT = 5;
    public static final int ARRAY = 6;
    public static final int BINARY = 7;
    public static final int OBJECT_ID = 8;
    public static final int BOOLEAN = 9;
    public static final int DATE = 10;
    public static final int TIMESTAMP = 11;
    public static final int REGEX = 12;
    public static final int DB_POINTER = 13;
    public static final int CODE = 14;
    public static final int CODE_WITH_SCOPE = 15;
    public static final int MAX_KEY = 16;

    private ValueOrder() {
    }

    @Override
    public int compare(Object a, Object b) {
        int types = Integer.compare(rank(a), rank(b));
        if (types != 0) {
            return types;
        }
        return switch (rank(a)) {
            case MIN_KEY, UNDEFINED, NULL, MAX_KEY -> 0;
            case NUMBER -> compareNumbers((Number) a, (Number) b);
            case STRING -> compareStrings(text(a), text(b));
            case DOCUMENT -> compareDocuments((Map<?, ?>) a, (Map<?, ?>) b);
            case ARRAY -> compareArrays((List<?>) a, (List<?>) b);
            case BINARY -> compareBinary(binary(a), binary(b));
            case OBJECT_ID -> Arrays.compareUnsigned(((ObjectId) a).toByteArray(), ((ObjectId) b).toByteArray());
            case BOOLEAN -> Boolean.compare((Boolean) a, (Boolean) b);
            case DATE -> Long.compare(((Date) a).getTime(), ((Date) b).getTime());
            case TIMESTAMP -> Long.compareUnsigned(((BsonTimestamp) a).getValue(), ((BsonTimestamp) b).getValue());
            case REGEX -> compareRegex(regex(a), regex(b));
            case DB_POINTER -> compareDbPointers((BsonDbPointer) a, (BsonDbPointer) b);
            case CODE -> compareStrings(((Code) a).getCode(), ((Code) b).getCode());
            case CODE_WITH_SCOPE -> compareCodeWithScope((CodeWithScope) a, (CodeWithScope) b);
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
        if (value == null) {
            return NULL;
        }
        if (value instanceof Integer || value instanceof Long || value instanceof Double || value instanceof Decimal128
            || value instanceof Float || value instanceof Short || value instanceof Byte || value instanceof BigDecimal) {
            return NUMBER;
        }
        if (value instanceof String || value instanceof Symbol) {
            return STRING;
        }
        if (value instanceof Map<?, ?>) {
            return DOCUMENT;
        }
        if (value instanceof List<?>) {
            return ARRAY;
        }
        if (value instanceof Boolean) {
            return BOOLEAN;
        }
        if (value instanceof Date) {
            return DATE;
        }
        if (value instanceof ObjectId) {
            return OBJECT_ID;
        }
        if (value instanceof Binary || value instanceof byte[] || value instanceof UUID) {
            return BINARY;
        }
        if (value instanceof MinKey) {
            return MIN_KEY;
        }
        if (value instanceof MaxKey) {
            return MAX_KEY;
        }
        if (value instanceof BsonUndefined) {
            return UNDEFINED;
        }
        if (value instanceof BsonTimestamp) {
            return TIMESTAMP;
        }
        if (value instanceof BsonRegularExpression || value instanceof Pattern) {
            return REGEX;
        }
        if (value instanceof BsonDbPointer) {
            return DB_POINTER;
        }
        if (value instanceof CodeWithScope) {
            return CODE_WITH_SCOPE;
        }
        if (value instanceof Code) {
            return CODE;
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

    private static int compareDbPointers(BsonDbPointer a, BsonDbPointer b) {
        int cmp = compareStrings(a.getNamespace(), b.getNamespace());
        return cmp != 0 ? cmp : Arrays.compareUnsigned(a.getId().toByteArray(), b.getId().toByteArray());
    }

    private int compareCodeWithScope(CodeWithScope a, CodeWithScope b) {
        int cmp = compareStrings(a.getCode(), b.getCode());
        return cmp != 0 ? cmp : compareDocuments(a.getScope(), b.getScope());
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

    /** The options of a regular expression, in MongoDB's alphabetical order. */
    private static String options(int flags) {
        StringBuilder options = new StringBuilder();
        if ((flags & Pattern.CASE_INSENSITIVE) != 0) {
            options.append('i');
        }
        if ((flags & Pattern.MULTILINE) != 0) {
            options.append('m');
        }
        if ((flags & Pattern.DOTALL) != 0) {
            options.append('s');
        }
        if ((flags & Pattern.UNICODE_CHARACTER_CLASS) != 0) {
            options.append('u');
        }
        if ((flags & Pattern.COMMENTS) != 0) {
            options.append('x');
        }
        return options.toString();
    }

    private static BsonRegularExpression regex(Object value) {
        if (value instanceof Pattern pattern) {
            return new BsonRegularExpression(pattern.pattern(), options(pattern.flags()));
        }
        return (BsonRegularExpression) value;
    }
}
