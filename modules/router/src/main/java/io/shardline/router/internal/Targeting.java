package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;

import io.shardline.core.key.HashedKeyStrategy;
import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.core.key.ShardKeyStrategy;
import io.shardline.core.key.TenantKeyStrategy;

/**
 * Which key ranges a query filter can match, from the namespace's shard-key strategy: equality, {@code $in},
 * {@code $eq}, ranges ({@code $gt}, {@code $gte}, {@code $lt}, {@code $lte}) on the leading shard-key field (ranges
 * only where the strategy keeps order, not for hashed keys), {@code $and} as intersection and {@code $or} as union.
 * Anything else leaves the key unconstrained, and the query goes to every shard.
 */
public final class Targeting {

    private final ShardKeyStrategy strategy;
    private final String leadingField;

    public Targeting(ShardKeyStrategy strategy) {
        this.strategy = strategy;
        this.leadingField = strategy.fields().get(0);
    }

    public TargetPlan plan(Map<String, ?> filter) {
        if (filter == null || filter.isEmpty()) {
            return TargetPlan.all("empty filter");
        }
        TargetPlan plan = TargetPlan.all("no condition on shard key '" + leadingField + "'");
        for (Map.Entry<String, ?> entry : filter.entrySet()) {
            String key = entry.getKey();
            TargetPlan part;
            if (key.equals("$and") && entry.getValue() instanceof List<?> branches) {
                part = TargetPlan.all("$and");
                for (Object branch : branches) {
                    part = part.intersect(branchPlan(branch));
                }
            } else if (key.equals("$or") && entry.getValue() instanceof List<?> branches && !branches.isEmpty()) {
                part = null;
                for (Object branch : branches) {
                    TargetPlan branchPlan = branchPlan(branch);
                    part = part == null ? branchPlan : part.union(branchPlan);
                }
            } else if (key.equals(leadingField)) {
                part = fieldPlan(entry.getValue());
            } else {
                continue;
            }
            plan = plan.intersect(part);
        }
        return plan;
    }

    private TargetPlan branchPlan(Object branch) {
        if (branch instanceof Map<?, ?> map) {
            @SuppressWarnings("unchecked")
            Map<String, ?> typed = (Map<String, ?>) map;
            return plan(typed);
        }
        return TargetPlan.all("non-document branch");
    }

    private TargetPlan fieldPlan(Object condition) {
        if (!(condition instanceof Map<?, ?> operators) || operators.isEmpty()
            || !operators.keySet().stream().allMatch(k -> String.valueOf(k).startsWith("$"))) {
            return points(List.of(condition), leadingField + " equality");
        }
        TargetPlan plan = TargetPlan.all(leadingField + " operators");
        Object lower = null;
        boolean lowerInclusive = false;
        Object upper = null;
        boolean upperInclusive = false;
        for (Map.Entry<?, ?> op : operators.entrySet()) {
            Object value = op.getValue();
            switch (String.valueOf(op.getKey())) {
                case "$eq" -> plan = plan.intersect(points(List.of(value), leadingField + " $eq"));
                case "$in" -> {
                    if (value instanceof List<?> values) {
                        plan = plan.intersect(points(values, leadingField + " $in"));
                    }
                }
                case "$gt" -> { lower = value; lowerInclusive = false; }
                case "$gte" -> { lower = value; lowerInclusive = true; }
                case "$lt" -> { upper = value; upperInclusive = false; }
                case "$lte" -> { upper = value; upperInclusive = true; }
                default -> { }
            }
        }
        if ((lower != null || upper != null) && !(strategy instanceof HashedKeyStrategy)) {
            plan = plan.intersect(range(lower, lowerInclusive, upper, upperInclusive));
        }
        return plan;
    }

    private TargetPlan points(List<?> values, String reason) {
        List<KeyRange> ranges = new ArrayList<>();
        for (Object value : values) {
            if (!encodable(value)) {
                return TargetPlan.all(reason + " on a value the key encoding does not order");
            }
            ranges.add(strategy.rangeOfLeadingValue(value));
        }
        return values.isEmpty() ? TargetPlan.none(reason + " of no values") : TargetPlan.of(ranges, reason);
    }

    /** A range on the leading field; only for strategies whose key starts with the field's order-preserving encoding. */
    private TargetPlan range(Object lower, boolean lowerInclusive, Object upper, boolean upperInclusive) {
        if ((lower != null && !encodable(lower)) || (upper != null && !encodable(upper))) {
            return TargetPlan.all(leadingField + " range on a value the key encoding does not order");
        }
        boolean exactKey = strategy instanceof TenantKeyStrategy tenant && tenant.fields().size() == 1;
        ShardKey min = ShardKey.MIN;
        if (lower != null) {
            ShardKey encoded = KeyEncoding.encode(lower);
            min = lowerInclusive ? encoded : after(encoded, exactKey);
        }
        ShardKey max = null;
        if (upper != null) {
            ShardKey encoded = KeyEncoding.encode(upper);
            max = upperInclusive ? after(encoded, exactKey) : encoded;
        }
        if (min == null || (max != null && min.compareTo(max) >= 0)) {
            return TargetPlan.none(leadingField + " empty range");
        }
        return TargetPlan.of(List.of(new KeyRange(min, max)), leadingField + " range");
    }

    /**
     * The first key after every key whose leading component is {@code encoded}: for keys that are exactly the
     * encoded value, the value plus one zero byte; for keys that continue after it, the prefix successor.
     */
    private static ShardKey after(ShardKey encoded, boolean exactKey) {
        if (exactKey) {
            byte[] bytes = encoded.toBytes();
            return ShardKey.ofBytes(Arrays.copyOf(bytes, bytes.length + 1));
        }
        return encoded.prefixSuccessor();
    }

    private static boolean encodable(Object value) {
        return value == null || value instanceof Number || value instanceof CharSequence || value instanceof Boolean
            || value instanceof Date || value instanceof org.bson.types.ObjectId;
    }
}
