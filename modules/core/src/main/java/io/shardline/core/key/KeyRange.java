package io.shardline.core.key;

import java.util.Objects;

/**
 * A half-open range {@code [min, max)} of encoded keys; {@code max == null} means unbounded above.
 */
public record KeyRange(ShardKey min, ShardKey max) {

    /** Every key. */
    public static final KeyRange ALL = new KeyRange(ShardKey.MIN, null);

    public KeyRange {
        Objects.requireNonNull(min, "min");
        if (max != null && min.compareTo(max) >= 0) {
            throw new IllegalArgumentException("empty key range: min " + min + " is not below max " + max);
        }
    }

    /** The range between two encoded keys as record fields hold them; a {@code null} max is unbounded. */
    public static KeyRange ofEncoded(java.nio.ByteBuffer min, java.nio.ByteBuffer max) {
        return new KeyRange(ShardKey.ofBuffer(min), max == null ? null : ShardKey.ofBuffer(max));
    }

    /** The range of all keys that start with the given prefix. */
    public static KeyRange prefix(ShardKey prefix) {
        return new KeyRange(prefix, prefix.prefixSuccessor());
    }

    public boolean contains(ShardKey key) {
        return key.compareTo(min) >= 0 && (max == null || key.compareTo(max) < 0);
    }

    public boolean overlaps(KeyRange other) {
        boolean startsBeforeOtherEnds = other.max == null || min.compareTo(other.max) < 0;
        boolean otherStartsBeforeThisEnds = max == null || other.min.compareTo(max) < 0;
        return startsBeforeOtherEnds && otherStartsBeforeThisEnds;
    }

    @Override
    public String toString() {
        return "[" + min + ", " + (max == null ? "MAX" : max.toString()) + ")";
    }
}
