package io.shardline.worker.plane;

import java.nio.ByteBuffer;
import java.util.HexFormat;

import io.shardline.controlplane.ControlPlaneClient;

/** Encoded keys as the hex strings routing keys and {@code _sk} use. */
public final class Hex {

    private Hex() {
    }

    public static String of(ByteBuffer bytes) {
        return ControlPlaneClient.hex(bytes);
    }

    public static ByteBuffer bytes(String hex) {
        return hex == null ? null : ByteBuffer.wrap(HexFormat.of().parseHex(hex));
    }
}
