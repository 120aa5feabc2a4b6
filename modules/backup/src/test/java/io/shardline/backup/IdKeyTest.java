package io.shardline.backup;

import static org.assertj.core.api.Assertions.assertThat;

import org.bson.BsonDecimal128;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt32;
import org.bson.BsonInt64;
import org.bson.BsonString;
import org.bson.types.Decimal128;
import org.bson.types.ObjectId;
import org.bson.BsonObjectId;
import org.junit.jupiter.api.Test;

class IdKeyTest {

    @Test
    void shouldTellIdsApartAsMongoDbDoes() {
        assertThat(IdKey.of(new BsonInt32(42))).isEqualTo(IdKey.of(new BsonInt64(42))).isEqualTo(IdKey.of(new BsonDouble(42.0)))
            .isEqualTo(IdKey.of(new BsonDecimal128(Decimal128.parse("42.000"))));
        assertThat(IdKey.of(new BsonInt32(42))).isNotEqualTo(IdKey.of(new BsonString("42"))).isNotEqualTo(IdKey.of(new BsonDouble(42.5)));
        assertThat(IdKey.of(new BsonDocument("a", new BsonInt64(1)).append("b", new BsonInt32(2))))
            .isEqualTo(IdKey.of(new BsonDocument("a", new BsonInt32(1)).append("b", new BsonDouble(2))))
            .as("documents compare field by field, in order").isNotEqualTo(IdKey.of(new BsonDocument("b", new BsonInt32(2)).append("a", new BsonInt32(1))));
        ObjectId id = new ObjectId();
        assertThat(IdKey.of(new BsonObjectId(id))).isEqualTo(IdKey.of(new BsonObjectId(id)));
        assertThat(IdKey.of(new BsonDouble(1e300))).isEqualTo(IdKey.of(new BsonDecimal128(Decimal128.parse("1E+300"))));
        assertThat(IdKey.of(new BsonDouble(0.0))).isEqualTo(IdKey.of(new BsonDouble(-0.0))).isEqualTo(IdKey.of(new BsonInt32(0)));
    }
}
