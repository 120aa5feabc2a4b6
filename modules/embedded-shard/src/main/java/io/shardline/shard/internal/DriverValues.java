package io.shardline.shard.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bson.BsonRegularExpression;
import org.bson.BsonTimestamp;
import org.bson.types.Binary;
import org.bson.types.Code;
import org.bson.types.Decimal128;
import org.bson.types.MaxKey;
import org.bson.types.MinKey;
import org.bson.types.ObjectId;

import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.BsonJavaScript;
import de.bwaldvogel.mongo.bson.LegacyUUID;

/**
 * mongo-java-server's values as the MongoDB driver decodes the same BSON ({@code Instant} as {@code Date}, its own
 * ObjectId, Decimal128, binary data, timestamps, regular expressions, MinKey and MaxKey as the driver's; a missing
 * value as null), so that the shard sorts with the same {@link io.shardline.bson.SortKeys} as the router merges.
 */
final class DriverValues {

    private DriverValues() {
    }

    static Object of(Object value) {
        if (value == null || value instanceof Missing) {
            return null;
        }
        if (value instanceof String || value instanceof Integer || value instanceof Long || value instanceof Double
            || value instanceof Boolean) {
            return value;
        }
        if (value instanceof Map<?, ?> document) {
            Map<String, Object> converted = new LinkedHashMap<>();
            document.forEach((name, element) -> converted.put(String.valueOf(name), of(element)));
            return converted;
        }
        if (value instanceof Collection<?> array) {
            List<Object> converted = new ArrayList<>(array.size());
            array.forEach(element -> converted.add(of(element)));
            return converted;
        }
        if (value instanceof Instant instant) {
            return new Date(instant.toEpochMilli());
        }
        if (value instanceof de.bwaldvogel.mongo.bson.ObjectId id) {
            return new ObjectId(id.toByteArray());
        }
        if (value instanceof de.bwaldvogel.mongo.bson.Decimal128 decimal) {
            return Decimal128.fromIEEE754BIDEncoding(decimal.getHigh(), decimal.getLow());
        }
        if (value instanceof BinData binary) {
            return new Binary(binary.getData());
        }
        if (value instanceof LegacyUUID uuid) {
            // Subtype 3 as stored: the Java legacy layout, each half of the UUID little-endian.
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            bytes.putLong(uuid.getUuid().getMostSignificantBits()).putLong(uuid.getUuid().getLeastSignificantBits());
            return new Binary((byte) 3, bytes.array());
        }
        if (value instanceof de.bwaldvogel.mongo.bson.BsonTimestamp timestamp) {
            return new BsonTimestamp(timestamp.getValue());
        }
        if (value instanceof de.bwaldvogel.mongo.bson.BsonRegularExpression regex) {
            return new BsonRegularExpression(regex.getPattern(), regex.getOptions());
        }
        if (value instanceof BsonJavaScript code) {
            return new Code(code.getCode());
        }
        if (value instanceof de.bwaldvogel.mongo.bson.MinKey) {
            return new MinKey();
        }
        if (value instanceof de.bwaldvogel.mongo.bson.MaxKey) {
            return new MaxKey();
        }
        return value;
    }
}
