package io.shardline.router.internal;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.List;

import org.bson.types.Decimal128;

/**
 * Sums and averages as MongoDB's {@code $sum} and {@code $avg} do: non-numbers count as nothing; integers stay
 * integral (int, then long) until a double joins; a decimal makes the result a decimal.
 */
final class Numbers {

    private Numbers() {
    }

    static Object sum(List<?> values) {
        long integral = 0;
        double floating = 0;
        BigDecimal decimal = BigDecimal.ZERO;
        boolean anyDouble = false;
        boolean anyLong = false;
        boolean anyDecimal = false;
        Double special = null;
        for (Object value : values) {
            if (value instanceof Decimal128 d) {
                anyDecimal = true;
                if (d.isNaN() || d.isInfinite()) {
                    special = combine(special, d.isNaN() ? Double.NaN : d.isNegative() ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY);
                } else {
                    decimal = decimal.add(new BigDecimal(d.toString()));
                }
            } else if (value instanceof Double || value instanceof Float) {
                anyDouble = true;
                floating += ((Number) value).doubleValue();
            } else if (value instanceof Long) {
                anyLong = true;
                integral += (Long) value;
            } else if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
                integral += ((Number) value).longValue();
            }
        }
        if (anyDecimal) {
            boolean floatingSpecial = Double.isNaN(floating) || Double.isInfinite(floating);
            if (special != null || floatingSpecial) {
                return decimalOf(special == null ? floating : floatingSpecial ? combine(special, floating) : special);
            }
            return new Decimal128(decimal.add(new BigDecimal(floating)).add(BigDecimal.valueOf(integral), MathContext.DECIMAL128));
        }
        if (anyDouble) {
            return floating + integral;
        }
        if (anyLong || integral > Integer.MAX_VALUE || integral < Integer.MIN_VALUE) {
            return integral;
        }
        return (int) integral;
    }

    /** NaN or an infinity from decimal NaN/infinities met so far: NaN wins, opposite infinities make NaN. */
    private static Double combine(Double special, double next) {
        if (special == null) {
            return next;
        }
        return special.equals(next) ? special : Double.NaN;
    }

    private static Decimal128 decimalOf(double special) {
        if (Double.isNaN(special)) {
            return Decimal128.NaN;
        }
        return special > 0 ? Decimal128.POSITIVE_INFINITY : Decimal128.NEGATIVE_INFINITY;
    }

    /** The average of numbers whose sum is {@code sum}: null for none, a decimal if the sum is one, else a double. */
    static Object average(Object sum, long count) {
        if (count == 0) {
            return null;
        }
        if (sum instanceof Decimal128 decimal && (decimal.isNaN() || decimal.isInfinite())) {
            return decimal;
        }
        if (sum instanceof Decimal128 decimal) {
            return new Decimal128(new BigDecimal(decimal.toString()).divide(BigDecimal.valueOf(count), MathContext.DECIMAL128));
        }
        return ((Number) sum).doubleValue() / count;
    }
}
