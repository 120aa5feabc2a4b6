package io.shardline.backup;

import java.math.BigDecimal;

import org.bson.BsonArray;
import org.bson.BsonDecimal128;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;

/**
 * A document's {@code _id} as MongoDB tells ids apart: numbers by value whatever their type (Debezium's keys write
 * a {@code NumberLong} as a plain number, which reads back as an int32), documents field by field in order. Two ids
 * are the same document exactly when their keys are equal.
 */
final class IdKey {

    private static final JsonWriterSettings CANONICAL = JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();

    private IdKey() {
    }

    static String of(BsonValue id) {
        return new BsonDocument("_id", normalized(id)).toJson(CANONICAL);
    }

    private static BsonValue normalized(BsonValue value) {
        if (value instanceof BsonInt32 || value instanceof BsonInt64 || value instanceof BsonDouble || value instanceof BsonDecimal128) {
            return number(value);
        }
        if (value instanceof BsonDocument document) {
            BsonDocument copy = new BsonDocument();
            document.forEach((field, item) -> copy.append(field, normalized(item)));
            return copy;
        }
        if (value instanceof BsonArray array) {
            BsonArray copy = new BsonArray();
            array.forEach(item -> copy.add(normalized(item)));
            return copy;
        }
        return value;
    }

    /**
     * A number as the plain decimal of its value, so that 42, 42L and 42.0 are one key; NaN and infinities stay as
     * they are. The field name holds a NUL, which no BSON field name can, so no stored document looks the same.
     */
    private static BsonValue number(BsonValue value) {
        BigDecimal decimal;
        if (value instanceof BsonDouble d) {
            if (d.getValue() != d.getValue() || Double.isInfinite(d.getValue())) {
                return d;
            }
            decimal = BigDecimal.valueOf(d.getValue());
        } else if (value instanceof BsonDecimal128 d) {
            if (d.getValue().isNaN() || d.getValue().isInfinite()) {
                return d;
            }
            decimal = d.getValue().bigDecimalValue();
        } else {
            decimal = BigDecimal.valueOf(value.asNumber().longValue());
        }
        return new BsonDocument("\u0000number", new BsonString(decimal.signum() == 0 ? "0" : decimal.stripTrailingZeros().toPlainString()));
    }
}
