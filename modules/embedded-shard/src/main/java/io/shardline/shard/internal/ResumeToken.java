package io.shardline.shard.internal;

import java.util.HexFormat;

import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerError;

/**
 * Resume tokens in MongoDB's v1 hex form: {@code _data} starts with the KeyString type byte 130 followed by
 * the big-endian cluster time, so tools that read the timestamp out of a token (Debezium does) work. A
 * token means "after this cluster time".
 */
final class ResumeToken {

    private static final String TIMESTAMP_TYPE = "82";

    private ResumeToken() {
    }

    static Document of(BsonTimestamp clusterTime) {
        return new Document("_data", TIMESTAMP_TYPE + HexFormat.of().toHexDigits(clusterTime.getValue()).toUpperCase());
    }

    static BsonTimestamp clusterTime(Object token, String option) {
        if (!(token instanceof Document document) || !(document.get("_data") instanceof String data)) {
            throw new MongoServerError(40647, "BadValue", option + " must be a resume token document with a string _data");
        }
        if (data.length() < 18 || !data.regionMatches(true, 0, TIMESTAMP_TYPE, 0, 2)) {
            throw new MongoServerError(40647, "BadValue", option + ": malformed resume token " + data);
        }
        try {
            return new BsonTimestamp(Long.parseUnsignedLong(data.substring(2, 18), 16));
        } catch (NumberFormatException e) {
            throw new MongoServerError(40647, "BadValue", option + ": malformed resume token " + data);
        }
    }
}
