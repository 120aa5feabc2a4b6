package io.shardline.core.key;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Date;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.Thresholds;

class ShardKeyStrategyTest {

    @Test
    void shouldKeepAWholeTenantInOneRangeWhenStrategyIsTenant() {
        ShardKeyStrategy strategy = new TenantKeyStrategy("tenantId", null, 0);
        KeyRange acme = strategy.rangeOfLeadingValue("acme");

        assertThat(acme.contains(strategy.keyOf(Map.of("tenantId", "acme", "_id", 1)))).isTrue();
        assertThat(acme.contains(strategy.keyOf(Map.of("tenantId", "acme2", "_id", 1)))).isFalse();
        assertThat(acme.contains(strategy.keyOf(Map.of("tenantId", "acm", "_id", 1)))).isFalse();
    }

    @Test
    void shouldSpreadABigTenantOverSuffixBucketsWhenBucketsAreConfigured() {
        ShardKeyStrategy strategy = new TenantKeyStrategy("tenantId", "_id", 8);
        KeyRange acme = strategy.rangeOfLeadingValue("acme");

        long distinctKeys = java.util.stream.IntStream.range(0, 200)
            .mapToObj(i -> strategy.keyOf(Map.of("tenantId", "acme", "_id", "user-" + i)))
            .peek(key -> assertThat(acme.contains(key)).isTrue())
            .distinct().count();
        assertThat(distinctKeys).isEqualTo(8);
    }

    @Test
    void shouldNameTheMissingFieldWhenADocumentLacksItsShardKey() {
        ShardKeyStrategy strategy = new TimeKeyStrategy("tenantId", "at", 3_600_000L);

        assertThatThrownBy(() -> strategy.keyOf(Map.of("tenantId", "acme")))
            .isInstanceOf(ShardKeyException.class)
            .hasMessageContaining("'at'")
            .extracting(e -> ((ShardKeyException) e).field()).isEqualTo("at");
    }

    @Test
    void shouldPutEntriesOfOneHourInOneBucketWhenStrategyIsTime() {
        ShardKeyStrategy strategy = new TimeKeyStrategy("tenantId", "at", 3_600_000L);

        ShardKey early = strategy.keyOf(Map.of("tenantId", "acme", "at", new Date(7_200_000L)));
        ShardKey late = strategy.keyOf(Map.of("tenantId", "acme", "at", new Date(10_799_999L)));
        ShardKey next = strategy.keyOf(Map.of("tenantId", "acme", "at", new Date(10_800_000L)));

        assertThat(early).isEqualTo(late);
        assertThat(next).isGreaterThan(late);
    }

    @Test
    void shouldReadDottedPathsWhenTheShardKeyIsNested() {
        ShardKeyStrategy strategy = new HashedKeyStrategy("profile.userId");

        assertThat(strategy.keyOf(Map.of("profile", Map.of("userId", "u1"))))
            .isEqualTo(strategy.keyOf(Map.of("profile", Map.of("userId", "u1"), "other", 2)))
            .isNotEqualTo(strategy.keyOf(Map.of("profile", Map.of("userId", "u2"))));
    }

    @Test
    void shouldRejectATimeConfigWithoutBucketWidth() {
        NamespaceConfig config = NamespaceConfig.newBuilder()
            .setNamespace("auth.audit_entries").setStrategy(ShardKeyStrategyType.TIME)
            .setShardKeyFields(List.of("tenantId", "at")).setThresholds(Thresholds.newBuilder().build())
            .setEpoch(1).setVersion(1).build();

        assertThatThrownBy(() -> ShardKeyStrategies.of(config)).hasMessageContaining("timeBucketMillis");
    }

    @Test
    void shouldRejectAHashedConfigWithTwoFields() {
        NamespaceConfig config = NamespaceConfig.newBuilder()
            .setNamespace("auth.sessions").setStrategy(ShardKeyStrategyType.HASHED)
            .setShardKeyFields(List.of("userId", "tenantId")).setThresholds(Thresholds.newBuilder().build())
            .setEpoch(1).setVersion(1).build();

        assertThatThrownBy(() -> ShardKeyStrategies.of(config)).hasMessageContaining("shardKeyFields");
    }
}
