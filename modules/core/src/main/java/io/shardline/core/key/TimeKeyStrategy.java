package io.shardline.core.key;

import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * {@code time}: the key is (tenant id, time bucket), for append-mostly data such as audit entries. A tenant's
 * entries are ordered by time, so old buckets form contiguous ranges that can be merged or archived.
 */
public final class TimeKeyStrategy implements ShardKeyStrategy {

    private final String tenantField;
    private final String timeField;
    private final long bucketMillis;

    public TimeKeyStrategy(String tenantField, String timeField, long bucketMillis) {
        if (bucketMillis <= 0) {
            throw new IllegalArgumentException("timeBucketMillis must be > 0, was " + bucketMillis);
        }
        this.tenantField = tenantField;
        this.timeField = timeField;
        this.bucketMillis = bucketMillis;
    }

    @Override
    public List<String> fields() {
        return List.of(tenantField, timeField);
    }

    @Override
    public ShardKey keyOf(Map<String, ?> document) {
        Object tenant = ShardKeyStrategy.requiredField(document, tenantField);
        long millis = epochMillis(ShardKeyStrategy.requiredField(document, timeField));
        return KeyEncoding.encodeTuple(List.of(tenant, bucketOf(millis)));
    }

    /** The first millisecond of the bucket holding {@code epochMillis}. */
    public long bucketOf(long epochMillis) {
        return Math.floorDiv(epochMillis, bucketMillis) * bucketMillis;
    }

    @Override
    public KeyRange rangeOfLeadingValue(Object tenant) {
        return KeyRange.prefix(KeyEncoding.encode(tenant));
    }

    private long epochMillis(Object value) {
        if (value instanceof Date date) {
            return date.getTime();
        }
        if (value instanceof Instant instant) {
            return instant.toEpochMilli();
        }
        if (value instanceof Long || value instanceof Integer) {
            return ((Number) value).longValue();
        }
        throw new ShardKeyException(timeField, "must be a date or epoch milliseconds, was " + value.getClass().getSimpleName());
    }
}
