package io.shardline.core.key;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * Encoded keys as records carry them (Avro {@code bytes}) and as routing-topic keys, {@code _sk} values and
 * operators write them: lowercase hex, the empty string for the smallest key ({@link ShardKey#MIN}). A {@code null}
 * stays {@code null}: it is the unbounded upper end of a range.
 */
public final class KeyHex {

    private KeyHex() {
    }

    /** The hex of the bytes from the buffer's position to its limit (the buffer is not moved), or {@code null}. */
    public static String of(ByteBuffer encoded) {
        return encoded == null ? null : ShardKey.ofBuffer(encoded).toHex();
    }

    /**
     * The bytes a hex string names, as a new buffer, or {@code null} for {@code null}.
     *
     * @throws IllegalArgumentException when the string is not an even number of hex digits
     */
    public static ByteBuffer bytes(String hex) {
        return hex == null ? null : ByteBuffer.wrap(HexFormat.of().parseHex(hex));
    }
}
