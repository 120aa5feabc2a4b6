package io.shardline.core.key;

import java.util.List;
import java.util.Map;

/**
 * {@code tenant}: the key is the tenant id, so a tenant's documents stay together. A tenant too big for one
 * chunk can be split over {@code suffixBuckets} sub-ranges by a hashed suffix of a second field (usually
 * {@code _id}); with {@code suffixBuckets == 0} there is no suffix.
 */
public final class TenantKeyStrategy implements ShardKeyStrategy {

    private final String tenantField;
    private final String suffixField;
    private final int suffixBuckets;

    public TenantKeyStrategy(String tenantField, String suffixField, int suffixBuckets) {
        if (suffixBuckets < 0) {
            throw new IllegalArgumentException("tenantSuffixBuckets must be >= 0, was " + suffixBuckets);
        }
        if (suffixBuckets > 0 && suffixField == null) {
            throw new IllegalArgumentException("shardKeyFields: a second field is needed for the hashed suffix");
        }
        this.tenantField = tenantField;
        this.suffixField = suffixField;
        this.suffixBuckets = suffixBuckets;
    }

    @Override
    public List<String> fields() {
        return suffixBuckets > 0 ? List.of(tenantField, suffixField) : List.of(tenantField);
    }

    @Override
    public ShardKey keyOf(Map<String, ?> document) {
        Object tenant = ShardKeyStrategy.requiredField(document, tenantField);
        if (suffixBuckets == 0) {
            return KeyEncoding.encode(tenant);
        }
        Object suffixValue = ShardKeyStrategy.requiredField(document, suffixField);
        long bucket = Math.floorMod(KeyHashing.hash64(suffixValue), (long) suffixBuckets);
        return KeyEncoding.encodeTuple(List.of(tenant, bucket));
    }

    @Override
    public KeyRange rangeOfLeadingValue(Object tenant) {
        ShardKey tenantKey = KeyEncoding.encode(tenant);
        return suffixBuckets == 0 ? new KeyRange(tenantKey, smallestAbove(tenantKey)) : KeyRange.prefix(tenantKey);
    }

    /** The next key after an exact, suffix-less tenant key: the key itself plus one zero byte. */
    private static ShardKey smallestAbove(ShardKey key) {
        byte[] bytes = key.toBytes();
        byte[] next = java.util.Arrays.copyOf(bytes, bytes.length + 1);
        return ShardKey.ofBytes(next);
    }
}
