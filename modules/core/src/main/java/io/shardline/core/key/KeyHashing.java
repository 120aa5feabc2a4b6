package io.shardline.core.key;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The hash behind {@code hashed} keys and tenant suffixes: the first 8 bytes of the MD5 of the value's
 * order-preserving encoding (MongoDB's hashed indexes also take 8 bytes of an MD5), so equal values
 * (5 and 5.0) hash alike and the hash is stable across JVMs and releases.
 */
public final class KeyHashing {

    /** One digest per thread: looking the algorithm up costs about as much as hashing a key. */
    private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required of every Java platform", e);
        }
    });

    private KeyHashing() {
    }

    public static long hash64(Object value) {
        byte[] digest = MD5.get().digest(KeyEncoding.encode(value).toBytes());
        return ByteBuffer.wrap(digest, 0, Long.BYTES).getLong();
    }
}
