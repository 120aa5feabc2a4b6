package io.shardline.core.key;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Date;
import java.util.List;

import org.bson.types.MaxKey;
import org.bson.types.MinKey;
import org.bson.types.ObjectId;

import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

class KeyEncodingPropertiesTest {

    @Property
    void longsEncodeInNumericOrder(@ForAll long a, @ForAll long b) {
        assertThat(Integer.signum(KeyEncoding.encode(a).compareTo(KeyEncoding.encode(b))))
            .isEqualTo(Integer.signum(Long.compare(a, b)));
    }

    @Property
    void doublesEncodeInNumericOrder(@ForAll double a, @ForAll double b) {
        int expected = Double.isNaN(a) || Double.isNaN(b)
            ? Boolean.compare(!Double.isNaN(a), !Double.isNaN(b))
            : Double.compare(a == 0.0 ? 0.0 : a, b == 0.0 ? 0.0 : b);
        assertThat(Integer.signum(KeyEncoding.encode(a).compareTo(KeyEncoding.encode(b))))
            .isEqualTo(Integer.signum(expected));
    }

    @Property
    void longsAndDoublesCompareNumericallyAcrossTypes(@ForAll long a, @ForAll double b) {
        if (Double.isNaN(b)) {
            return;
        }
        int expected = new java.math.BigDecimal(a).compareTo(new java.math.BigDecimal(b));
        assertThat(Integer.signum(KeyEncoding.encode(a).compareTo(KeyEncoding.encode(b)))).isEqualTo(expected);
    }

    @Property
    void stringsEncodeInUtf8ByteOrder(@ForAll String a, @ForAll String b) {
        int expected = java.util.Arrays.compareUnsigned(a.getBytes(java.nio.charset.StandardCharsets.UTF_8),
            b.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(Integer.signum(KeyEncoding.encode(a).compareTo(KeyEncoding.encode(b))))
            .isEqualTo(Integer.signum(expected));
    }

    @Property
    void tuplesCompareComponentByComponent(@ForAll String tenantA, @ForAll long bucketA,
                                           @ForAll String tenantB, @ForAll long bucketB) {
        int expected = java.util.Arrays.compareUnsigned(tenantA.getBytes(java.nio.charset.StandardCharsets.UTF_8),
            tenantB.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        if (expected == 0) {
            expected = Long.compare(bucketA, bucketB);
        }
        ShardKey a = KeyEncoding.encodeTuple(List.of(tenantA, bucketA));
        ShardKey b = KeyEncoding.encodeTuple(List.of(tenantB, bucketB));
        assertThat(Integer.signum(a.compareTo(b))).isEqualTo(Integer.signum(expected));
    }

    @Property
    void aPrefixRangeHoldsExactlyTheKeysThatStartWithIt(@ForAll String tenant, @ForAll long bucket, @ForAll String other) {
        KeyRange range = KeyRange.prefix(KeyEncoding.encode(tenant));
        assertThat(range.contains(KeyEncoding.encodeTuple(List.of(tenant, bucket)))).isTrue();
        assertThat(range.contains(KeyEncoding.encodeTuple(List.of(other, bucket)))).isEqualTo(other.equals(tenant));
    }

    @Example
    void typesOrderAsMongoDbOrdersThem() {
        List<ShardKey> ascending = List.of(
            KeyEncoding.encode(new MinKey()),
            KeyEncoding.encode(null),
            KeyEncoding.encode(-1.5),
            KeyEncoding.encode(42),
            KeyEncoding.encode(""),
            KeyEncoding.encode("zzz"),
            KeyEncoding.encode(new ObjectId("000000000000000000000000")),
            KeyEncoding.encode(false),
            KeyEncoding.encode(true),
            KeyEncoding.encode(new Date(0)),
            KeyEncoding.encode(new MaxKey()));
        assertThat(ascending).isSorted();
    }

    @Example
    void equalNumbersOfDifferentTypesEncodeAlike() {
        assertThat(KeyEncoding.encode(5)).isEqualTo(KeyEncoding.encode(5L)).isEqualTo(KeyEncoding.encode(5.0));
        assertThat(KeyEncoding.encode(-0.0)).isEqualTo(KeyEncoding.encode(0));
    }
}
