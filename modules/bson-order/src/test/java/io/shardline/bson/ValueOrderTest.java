package io.shardline.bson;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.Random;

import org.bson.BsonDbPointer;
import org.bson.BsonRegularExpression;
import org.bson.BsonTimestamp;
import org.bson.BsonUndefined;
import org.bson.Document;
import org.bson.types.Binary;
import org.bson.types.Code;
import org.bson.types.CodeWithScope;
import org.bson.types.Decimal128;
import org.bson.types.MaxKey;
import org.bson.types.MinKey;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;

/** MongoDB's documented comparison and sort order of BSON values, case by case. */
class ValueOrderTest {

    private static final ValueOrder ORDER = ValueOrder.INSTANCE;

    @Test
    void shouldOrderTheTypesCanonically() {
        List<Object> canonical = List.of(new MinKey(), new BsonUndefined(), "", new Document(), List.of(), new Binary(new byte[0]),
            new ObjectId("000000000000000000000000"), false, new Date(0), new BsonTimestamp(0, 0), new BsonRegularExpression("a"),
            new BsonDbPointer("db.c", new ObjectId("000000000000000000000000")), new Code("x"), new CodeWithScope("x", new Document()),
            new MaxKey());
        List<Object> values = new ArrayList<>(canonical);
        values.add(2, null);
        values.add(3, -1e300);
        List<Object> shuffled = new ArrayList<>(values);
        Collections.shuffle(shuffled, new Random(7));

        shuffled.sort(ORDER);

        assertThat(shuffled).containsExactlyElementsOf(values);
    }

    @Test
    void shouldCompareNumbersByValueWhateverTheirType() {
        assertThat(ORDER.same(1, 1L)).isTrue();
        assertThat(ORDER.same(1, 1.0)).isTrue();
        assertThat(ORDER.same(Decimal128.parse("1.00"), 1)).isTrue();
        assertThat(ORDER.compare(2, 1.5)).isPositive();
        assertThat(ORDER.compare(Long.MAX_VALUE, 9.223372036854775807E18)).as("long beyond a double's precision").isNegative();
        assertThat(ORDER.compare(Double.NaN, Double.NEGATIVE_INFINITY)).as("NaN before every number").isNegative();
        assertThat(ORDER.compare(Double.POSITIVE_INFINITY, Decimal128.POSITIVE_INFINITY)).isZero();
        assertThat(ORDER.compare(Double.POSITIVE_INFINITY, Decimal128.parse("1E+6000"))).as("a decimal beyond every double").isPositive();
        assertThat(ORDER.compare(Decimal128.parse("-0"), 0)).isZero();
        assertThat(ORDER.compare(Decimal128.parse("-0E+3"), 0.0)).isZero();
        assertThat(ORDER.compare(Double.MAX_VALUE, "")).as("numbers before strings").isNegative();
    }

    @Test
    void shouldCompareStringsByTheirUtf8Bytes() {
        assertThat(ORDER.compare("B", "a")).as("no collation: upper case first").isNegative();
        assertThat(ORDER.compare("ab", "abc")).isNegative();
        // U+FF5E is one UTF-16 unit above the surrogates that encode U+1F600, yet a smaller code point.
        assertThat(ORDER.compare("\uFF5E", "\uD83D\uDE00")).isNegative();
    }

    @Test
    void shouldCompareDocumentsFieldByFieldTypeThenNameThenValue() {
        assertThat(ORDER.compare(new Document("a", 1), new Document("a", 2))).isNegative();
        assertThat(ORDER.compare(new Document("a", 1), new Document("b", 0))).as("names before values").isNegative();
        assertThat(ORDER.compare(new Document("b", 1), new Document("a", "x"))).as("the value's type before the name").isNegative();
        assertThat(ORDER.compare(new Document("a", 1), new Document("a", 1).append("b", 0))).as("a prefix first").isNegative();
        assertThat(ORDER.compare(new Document("a", 1L), new Document("a", 1.0))).isZero();
    }

    @Test
    void shouldCompareArraysElementByElement() {
        assertThat(ORDER.compare(List.of(1, 2), List.of(1, 3))).isNegative();
        assertThat(ORDER.compare(List.of(1), List.of(1, 0))).isNegative();
        assertThat(ORDER.compare(List.of(), List.of(new MinKey()))).isNegative();
        assertThat(ORDER.compare(List.of("a"), List.of(5))).isPositive();
    }

    @Test
    void shouldCompareTheOtherTypesWithinThemselves() {
        assertThat(ORDER.compare(new Binary(new byte[] {9}), new Binary(new byte[] {1, 1}))).as("binary: length first").isNegative();
        assertThat(ORDER.compare(new Binary((byte) 0, new byte[] {9}), new Binary((byte) 4, new byte[] {1}))).as("then subtype").isNegative();
        assertThat(ORDER.compare(false, true)).isNegative();
        assertThat(ORDER.same(java.util.regex.Pattern.compile("a", java.util.regex.Pattern.CASE_INSENSITIVE), new BsonRegularExpression("a", "i")))
            .as("a Java pattern's flags are its options").isTrue();
        assertThat(ORDER.compare(new Date(-1), new Date(0))).isNegative();
        assertThat(ORDER.compare(new BsonTimestamp(0x80000000, 0), new BsonTimestamp(1, 0))).as("timestamps unsigned").isPositive();
        assertThat(ORDER.compare(new ObjectId("000000000000000000000001"), new ObjectId("ff0000000000000000000000"))).isNegative();
    }
}
