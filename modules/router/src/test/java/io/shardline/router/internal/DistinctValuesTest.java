package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Date;
import java.util.List;

import org.bson.Document;
import org.bson.types.Decimal128;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.Test;

class DistinctValuesTest {

    private static List<Object> union(Object... values) {
        DistinctValues union = new DistinctValues();
        Arrays.asList(values).forEach(union::add);
        return union.values();
    }

    @Test
    void shouldHoldNumbersOfEveryTypeEqualByValue() {
        assertThat(union(1, 1L, 1.0, new Decimal128(1), Decimal128.parse("1.000"))).containsExactly(1);
        assertThat(union(0, -0.0, Decimal128.parse("-0"), Decimal128.parse("-0E+3"), Decimal128.parse("0.00"))).containsExactly(0);
        assertThat(union(Double.NaN, Decimal128.NaN)).containsExactly(Double.NaN);
        assertThat(union(Double.POSITIVE_INFINITY, Decimal128.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY)).hasSize(2);
        // 0.1 as a double is not the decimal 0.1; 2^53 + 1 as a long is not the double 2^53.
        assertThat(union(0.1, Decimal128.parse("0.1"))).hasSize(2);
        assertThat(union((1L << 53) + 1, (double) (1L << 53))).hasSize(2);
        assertThat(union(2.5, Decimal128.parse("2.50"), 3L)).containsExactly(2.5, 3L);
    }

    @Test
    void shouldKeepNullOnceAndDistinctFromFalseZeroAndEmptyString() {
        assertThat(union(null, false, null, 0, "", true, false)).containsExactly(null, false, 0, "", true);
    }

    @Test
    void shouldCompareDocumentsFieldByFieldInOrder() {
        Document a = new Document("k", 1).append("v", "x");
        assertThat(union(a, new Document("k", 1.0).append("v", "x"), new Document("k", 1L).append("v", "x"))).containsExactly(a);
        assertThat(union(a, new Document("v", "x").append("k", 1))).hasSize(2);
        assertThat(union(new Document("k", new Document("n", 2)), new Document("k", new Document("n", 2.0)))).hasSize(1);
        assertThat(union(new Document(), new Document("k", null))).hasSize(2);
    }

    @Test
    void shouldCompareArraysElementByElement() {
        assertThat(union(List.of(1, 2), List.of(1.0, 2L), List.of(2, 1), List.of(), Arrays.asList((Object) null))).hasSize(4);
        assertThat(union(List.of(List.of(1)), List.of(List.of(1.0)))).hasSize(1);
    }

    @Test
    void shouldKeepTypesApart() {
        ObjectId id = new ObjectId();
        Date date = new Date(5);
        assertThat(union("1", 1, true, date, new Date(5), 5L, id, new ObjectId(id.toHexString()), "é", "e\u0301"))
            .containsExactly("1", 1, true, date, 5L, id, "é", "e\u0301");
    }
}
