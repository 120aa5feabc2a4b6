package io.shardline.core.key;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * An encoded shard-key value: bytes whose unsigned lexicographic order is the order of the
 * values they encode (see {@link KeyEncoding}). Chunks are half-open ranges of these.
 *
 * <p>The empty key is the smallest key there is ({@link #MIN}); there is no largest key, an
 * unbounded upper end of a range is written as {@code null}.
 */
public final class ShardKey implements Comparable<ShardKey> {

    /**
     * The field in which every stored document carries its encoded shard key, as a lowercase hex string: hex strings
     * compare as MongoDB compares strings (by bytes), in the order of the keys, so a chunk is the range
     * {@code {_sk: {$gte: min, $lt: max}}} on any shard.
     */
    public static final String DOCUMENT_FIELD = "_sk";

    /** The smallest key: every other key is greater. */
    public static final ShardKey MIN = new ShardKey(new byte[0]);

    private final byte[] bytes;

    private ShardKey(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Wraps a copy of already-encoded bytes. */
    public static ShardKey ofBytes(byte[] encoded) {
        return encoded.length == 0 ? MIN : new ShardKey(encoded.clone());
    }

    /** Reads the encoded bytes a record field holds (from its position to its limit; the buffer is not moved). */
    public static ShardKey ofBuffer(java.nio.ByteBuffer encoded) {
        java.nio.ByteBuffer view = encoded.duplicate();
        byte[] bytes = new byte[view.remaining()];
        view.get(bytes);
        return bytes.length == 0 ? MIN : new ShardKey(bytes);
    }

    /** Parses the hexadecimal form printed by {@link #toHex()}. */
    public static ShardKey ofHex(String hex) {
        return ofBytes(HexFormat.of().parseHex(hex));
    }

    /** A copy of the encoded bytes. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    public int length() {
        return bytes.length;
    }

    public boolean isMin() {
        return bytes.length == 0;
    }

    /** True when this key starts with the given prefix (all keys start with {@link #MIN}). */
    public boolean startsWith(ShardKey prefix) {
        return bytes.length >= prefix.bytes.length
            && Arrays.equals(bytes, 0, prefix.bytes.length, prefix.bytes, 0, prefix.bytes.length);
    }

    /**
     * The smallest key greater than every key that starts with this one, or {@code null} when no such key
     * exists (this key is empty or all 0xFF). Used to turn a prefix into the range [prefix, successor).
     */
    public ShardKey prefixSuccessor() {
        for (int i = bytes.length - 1; i >= 0; i--) {
            if ((bytes[i] & 0xFF) != 0xFF) {
                byte[] next = Arrays.copyOf(bytes, i + 1);
                next[i]++;
                return new ShardKey(next);
            }
        }
        return null;
    }

    public String toHex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public int compareTo(ShardKey other) {
        return Arrays.compareUnsigned(bytes, other.bytes);
    }

    /** Compares two upper bounds where {@code null} means plus infinity. */
    public static int compareUpper(ShardKey a, ShardKey b) {
        if (a == null) {
            return b == null ? 0 : 1;
        }
        return b == null ? -1 : a.compareTo(b);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ShardKey other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return isMin() ? "MIN" : toHex();
    }
}
