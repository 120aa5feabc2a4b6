package io.shardline.worker.internal;

import java.nio.ByteBuffer;
import java.util.HexFormat;

/** Encoded keys as the hex strings routing keys and {@code _sk} use. */
public final class Hex {

    private Hex() {
    }

    public static String of(ByteBuffer bytes) {
        if (bytes == null) {
            return null;
        }
        ByteBuffer copy = bytes.duplicate();
        byte[] raw = new byte[copy.remaining()];
        copy.get(raw);
        return HexFormat.of().formatHex(raw);
    }

    public static ByteBuffer bytes(String hex) {
        return hex == null ? null : ByteBuffer.wrap(HexFormat.of().parseHex(hex));
    }
}
