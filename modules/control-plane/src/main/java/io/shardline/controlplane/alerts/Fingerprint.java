package io.shardline.controlplane.alerts;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/**
 * An alert's identity: the first 16 hex digits of the SHA-256 of its labels, sorted by name, each as its name and its
 * value in UTF-8, each followed by the byte 0xff (which UTF-8 never holds, so no two label sets read alike). The same labels in any order give the same fingerprint; the status, the
 * times and the annotations are not part of it, so a firing alert and its resolution share it.
 */
public final class Fingerprint {

    private static final byte SEPARATOR = (byte) 0xff;

    private Fingerprint() {
    }

    public static String of(Map<String, String> labels) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
        new TreeMap<>(labels).forEach((name, value) -> {
            sha256.update(name.getBytes(StandardCharsets.UTF_8));
            sha256.update(SEPARATOR);
            sha256.update(value.getBytes(StandardCharsets.UTF_8));
            sha256.update(SEPARATOR);
        });
        return HexFormat.of().formatHex(sha256.digest(), 0, 8);
    }
}
