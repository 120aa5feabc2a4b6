package io.shardline.core.key;

import java.util.List;

import io.shardline.schemas.avro.NamespaceConfig;

/** Builds the {@link ShardKeyStrategy} a {@link NamespaceConfig} describes, validating the config. */
public final class ShardKeyStrategies {

    private ShardKeyStrategies() {
    }

    /**
     * @throws IllegalArgumentException naming the field of the config that is wrong
     */
    public static ShardKeyStrategy of(NamespaceConfig config) {
        List<String> fields = config.getShardKeyFields();
        String ns = config.getNamespace();
        switch (config.getStrategy()) {
            case TENANT -> {
                requireFields(ns, fields, 1, 2, "tenant needs [tenantField] or [tenantField, suffixField]");
                int buckets = config.getTenantSuffixBuckets() == null ? 0 : config.getTenantSuffixBuckets();
                return new TenantKeyStrategy(fields.get(0), fields.size() > 1 ? fields.get(1) : null, buckets);
            }
            case HASHED -> {
                requireFields(ns, fields, 1, 1, "hashed needs exactly one field");
                return new HashedKeyStrategy(fields.get(0));
            }
            case TIME -> {
                requireFields(ns, fields, 2, 2, "time needs [tenantField, timeField]");
                if (config.getTimeBucketMillis() == null) {
                    throw new IllegalArgumentException(ns + ": timeBucketMillis is required for strategy TIME");
                }
                return new TimeKeyStrategy(fields.get(0), fields.get(1), config.getTimeBucketMillis());
            }
            default -> throw new IllegalArgumentException(ns + ": strategy " + config.getStrategy() + " is not known");
        }
    }

    private static void requireFields(String ns, List<String> fields, int min, int max, String rule) {
        if (fields.size() < min || fields.size() > max) {
            throw new IllegalArgumentException(ns + ": shardKeyFields " + fields + " is invalid: " + rule);
        }
        for (String field : fields) {
            if (field.isBlank()) {
                throw new IllegalArgumentException(ns + ": shardKeyFields contains a blank field name");
            }
        }
    }
}
