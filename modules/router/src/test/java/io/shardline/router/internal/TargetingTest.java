package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.shardline.core.key.HashedKeyStrategy;
import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.TenantKeyStrategy;
import io.shardline.core.key.TimeKeyStrategy;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

class TargetingTest {

    private final Targeting tenant = new Targeting(new TenantKeyStrategy("tenantId", null, 0));
    private final Targeting hashed = new Targeting(new HashedKeyStrategy("userId"));
    private final Targeting time = new Targeting(new TimeKeyStrategy("tenantId", "at", 3_600_000L));

    @Test
    void shouldTargetOnePointForAnEqualityAndSeveralForIn() {
        assertThat(tenant.plan(new Document("tenantId", "acme")).ranges()).hasSize(1);
        assertThat(tenant.plan(new Document("tenantId", new Document("$in", List.of("a", "c", "b")))).ranges()).hasSize(3);
        assertThat(hashed.plan(new Document("userId", new Document("$eq", "u1"))).ranges()).hasSize(1);
    }

    @Test
    void shouldTargetEverythingWhenTheShardKeyIsNotConstrained() {
        assertThat(tenant.plan(new Document("name", "x")).isAll()).isTrue();
        assertThat(tenant.plan(new Document("tenantId", new Document("$ne", "a"))).isAll()).isTrue();
        assertThat(hashed.plan(new Document("userId", new Document("$gt", "u"))).isAll()).as("hashes do not keep order").isTrue();
        assertThat(tenant.plan(new Document("$or", List.of(new Document("tenantId", "a"), new Document("name", "b")))).isAll()).isTrue();
    }

    @Test
    void shouldIntersectAndAndUniteOr() {
        TargetPlan and = tenant.plan(new Document("$and", List.of(
            new Document("tenantId", new Document("$in", List.of("a", "b"))), new Document("tenantId", "b"))));
        TargetPlan or = tenant.plan(new Document("$or", List.of(new Document("tenantId", "a"), new Document("tenantId", "b"))));

        assertThat(and.ranges()).containsExactly(new TenantKeyStrategy("tenantId", null, 0).rangeOfLeadingValue("b"));
        assertThat(or.ranges()).hasSize(2);
        assertThat(tenant.plan(new Document("$and", List.of(new Document("tenantId", "a"), new Document("tenantId", "b")))).ranges()).isEmpty();
    }

    @Test
    void shouldKeepATenantsTimeBucketsInTheTenantsPrefix() {
        TargetPlan plan = time.plan(new Document("tenantId", "acme").append("at", new Document("$gte", 5)));

        assertThat(plan.ranges()).containsExactly(KeyRange.prefix(KeyEncoding.encode("acme")));
    }

    @Property
    void aRangeOnTheTenantHoldsExactlyTheTenantsInIt(@ForAll String lo, @ForAll String hi, @ForAll String probe) {
        TargetPlan plan = tenant.plan(new Document("tenantId", new Document("$gte", lo).append("$lt", hi)));
        boolean inside = KeyEncoding.encode(probe).compareTo(KeyEncoding.encode(lo)) >= 0
            && KeyEncoding.encode(probe).compareTo(KeyEncoding.encode(hi)) < 0;
        boolean targeted = plan.ranges().stream().anyMatch(r -> r.contains(KeyEncoding.encode(probe)));
        assertThat(targeted).isEqualTo(inside);
    }

    @Property
    void anExclusiveUpperBoundStillTargetsEveryKeyBelowIt(@ForAll String lo, @ForAll String hi) {
        if (KeyEncoding.encode(lo).compareTo(KeyEncoding.encode(hi)) > 0) {
            return;
        }
        TargetPlan plan = tenant.plan(new Document("tenantId", new Document("$gte", lo).append("$lte", hi)));
        assertThat(plan.ranges().stream().anyMatch(r -> r.contains(KeyEncoding.encode(hi)))).isTrue();
        assertThat(plan.ranges().stream().anyMatch(r -> r.contains(KeyEncoding.encode(lo)))).isTrue();
    }

    @Test
    void shouldReadFiltersGivenAsPlainMaps() {
        assertThat(tenant.plan(Map.of("tenantId", "a")).ranges()).hasSize(1);
    }
}
