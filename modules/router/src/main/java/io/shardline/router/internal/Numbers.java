package io.shardline.router.internal;

import java.util.List;

/** Sums as MongoDB's {@code $sum} does: non-numbers count as nothing; integers stay integral until a double joins. */
final class Numbers {

    private Numbers() {
    }

    static Object sum(List<?> values) {
        long integral = 0;
        double floating = 0;
        boolean anyDouble = false;
        boolean anyLong = false;
        for (Object value : values) {
            if (value instanceof Double || value instanceof Float) {
                anyDouble = true;
                floating += ((Number) value).doubleValue();
            } else if (value instanceof Long) {
                anyLong = true;
                integral += (Long) value;
            } else if (value instanceof Number number) {
                integral += number.longValue();
            }
        }
        if (anyDouble) {
            return floating + integral;
        }
        if (anyLong || integral > Integer.MAX_VALUE || integral < Integer.MIN_VALUE) {
            return integral;
        }
        return (int) integral;
    }
}
