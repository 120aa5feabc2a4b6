package io.shardline.core.key;

import java.util.List;
import java.util.Map;

/** {@code hashed}: the key is a 64-bit hash of one field (userId or _id), spreading documents evenly. */
public final class HashedKeyStrategy implements ShardKeyStrategy {

    private final String field;

    public HashedKeyStrategy(String field) {
        this.field = field;
    }

    @Override
    public List<String> fields() {
        return List.of(field);
    }

    @Override
    public ShardKey keyOf(Map<String, ?> document) {
        return KeyEncoding.encode(KeyHashing.hash64(ShardKeyStrategy.requiredField(document, field)));
    }

    @Override
    public KeyRange rangeOfLeadingValue(Object value) {
        ShardKey key = KeyEncoding.encode(KeyHashing.hash64(value));
        return new KeyRange(key, ShardKey.ofBytes(java.util.Arrays.copyOf(key.toBytes(), key.length() + 1)));
    }
}
