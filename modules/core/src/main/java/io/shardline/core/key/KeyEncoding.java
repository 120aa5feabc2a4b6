package io.shardline.core.key;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import org.bson.types.Decimal128;
import org.bson.types.MaxKey;
import org.bson.types.MinKey;
import org.bson.types.ObjectId;

/**
 * Order-preserving binary encoding of shard-key values.
 *
 * <p>Each value is written as a type tag followed by a self-delimiting body, so a tuple is the plain
 * concatenation of its components and compares component by component. Types are ordered as MongoDB
 * orders BSON types (MinKey &lt; null &lt; numbers &lt; strings &lt; ObjectId &lt; booleans &lt; dates &lt; MaxKey),
 * and values inside a type as MongoDB compares them:
 * <ul>
 *   <li>numbers (int, long, double, Decimal128) compare numerically across types, so {@code 5} and
 *       {@code 5.0} encode the same: a sortable double followed by the exact remainder of a long;</li>
 *   <li>strings compare by UTF-8 bytes (MongoDB's simple binary collation); 0x00 is escaped;</li>
 *   <li>dates compare by epoch milliseconds.</li>
 * </ul>
 */
public final class KeyEncoding {

    static final int TAG_MIN_KEY = 0x00;
    static final int TAG_NULL = 0x05;
    static final int TAG_NUMBER = 0x10;
    static final int TAG_STRING = 0x20;
    static final int TAG_OBJECT_ID = 0x30;
    static final int TAG_BOOLEAN = 0x40;
    static final int TAG_DATE = 0x50;
    static final int TAG_MAX_KEY = 0xFF;

    private KeyEncoding() {
    }

    /** Encodes one value. */
    public static ShardKey encode(Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16);
        write(out, value);
        return ShardKey.ofBytes(out.toByteArray());
    }

    /** Encodes a tuple of values; the result orders as the tuple does, component by component. */
    public static ShardKey encodeTuple(List<?> values) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * values.size());
        for (Object value : values) {
            write(out, value);
        }
        return ShardKey.ofBytes(out.toByteArray());
    }

    static void write(ByteArrayOutputStream out, Object value) {
        if (value == null) {
            out.write(TAG_NULL);
        } else if (value instanceof MinKey) {
            out.write(TAG_MIN_KEY);
        } else if (value instanceof MaxKey) {
            out.write(TAG_MAX_KEY);
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            writeLong(out, ((Number) value).longValue());
        } else if (value instanceof Double || value instanceof Float) {
            writeDouble(out, ((Number) value).doubleValue());
        } else if (value instanceof Decimal128 decimal) {
            writeDouble(out, decimal.bigDecimalValue().doubleValue());
        } else if (value instanceof CharSequence text) {
            writeString(out, text.toString());
        } else if (value instanceof ObjectId id) {
            out.write(TAG_OBJECT_ID);
            out.writeBytes(id.toByteArray());
        } else if (value instanceof Boolean bool) {
            out.write(TAG_BOOLEAN);
            out.write(bool ? 1 : 0);
        } else if (value instanceof Date date) {
            out.write(TAG_DATE);
            writeRawLong(out, date.getTime() ^ Long.MIN_VALUE);
        } else if (value instanceof Instant instant) {
            out.write(TAG_DATE);
            writeRawLong(out, instant.toEpochMilli() ^ Long.MIN_VALUE);
        } else {
            throw new IllegalArgumentException("shard-key value of type " + value.getClass().getName()
                + " cannot be encoded; supported: null, numbers, strings, ObjectId, booleans, dates, MinKey, MaxKey");
        }
    }

    private static void writeLong(ByteArrayOutputStream out, long value) {
        double approx = (double) value;
        out.write(TAG_NUMBER);
        writeRawLong(out, sortableDouble(approx));
        // (long) approx saturates at the ends of the long range; the remainder is exact otherwise.
        long remainder = approx >= 0x1p63 ? value - Long.MAX_VALUE - 1 : value - (long) approx;
        writeRawLong(out, remainder ^ Long.MIN_VALUE);
    }

    private static void writeDouble(ByteArrayOutputStream out, double value) {
        out.write(TAG_NUMBER);
        double normalized = value == 0.0 ? 0.0 : value; // -0.0 == 0.0
        writeRawLong(out, sortableDouble(normalized));
        writeRawLong(out, Long.MIN_VALUE); // remainder 0, sign-flipped
    }

    /** Maps a double to a long whose unsigned order is the double's numeric order (NaN lowest, as MongoDB). */
    private static long sortableDouble(double value) {
        if (Double.isNaN(value)) {
            return 0L;
        }
        long bits = Double.doubleToLongBits(value);
        return bits < 0 ? ~bits : bits ^ Long.MIN_VALUE;
    }

    private static void writeString(ByteArrayOutputStream out, String value) {
        out.write(TAG_STRING);
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            out.write(b);
            if (b == 0) {
                out.write(0xFF); // escaped 0x00 sorts after the terminator below
            }
        }
        out.write(0x00);
        out.write(0x01);
    }

    private static void writeRawLong(ByteArrayOutputStream out, long value) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.write((int) (value >>> shift) & 0xFF);
        }
    }
}
