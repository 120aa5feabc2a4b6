package io.shardline.router.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

/** What {@code GET /health} says of a router, from its lease, its read-staleness bound and the shards that are DOWN. */
class RouterHealthTest {

    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final Duration LEASE = Duration.ofSeconds(5);
    private static final Duration STALENESS = Duration.ofSeconds(60);
    private static final RouterHealth.DownShard S2 = new RouterHealth.DownShard("s2", Instant.parse("2026-03-01T11:59:50Z"),
        "MongoSocketOpenException: connection refused");

    private static RouterHealth at(long leaseValidUntilMillis, List<RouterHealth.DownShard> down) {
        return RouterHealth.of(NOW, 42, leaseValidUntilMillis, LEASE, STALENESS, down);
    }

    @Test
    void shouldBeUpWithALeaseAndEveryShardUp() {
        // Renewed 700 ms ago: the lease runs 5 s from then.
        RouterHealth health = at(NOW.toEpochMilli() + 4_300, List.of());

        assertThat(health.status()).isEqualTo(RouterHealth.Status.UP);
        assertThat(health.httpStatus()).isEqualTo(200);
        assertThat(health.leaseValid()).isTrue();
        assertThat(health.routingAgeMillis()).isEqualTo(700);
        assertThat(health.reasons()).isEmpty();
        assertThat(health.toDocument()).isEqualTo(new Document("status", "UP").append("routingVersion", 42L).append("routingAgeMillis", 700L)
            .append("leaseValid", true).append("shardsDown", List.of()).append("reasons", List.of()));
    }

    @Test
    void shouldBeDegradedButServingWhileSomeShardsAreDown() {
        RouterHealth health = at(NOW.toEpochMilli() + 4_000, List.of(S2));

        assertThat(health.status()).isEqualTo(RouterHealth.Status.DEGRADED);
        assertThat(health.httpStatus()).isEqualTo(200);
        assertThat(health.reasons()).singleElement().asString().contains("shard s2 is DOWN since 2026-03-01T11:59:50Z", "connection refused");
        assertThat(health.toDocument().getList("shardsDown", Document.class)).containsExactly(new Document("shardId", "s2")
            .append("since", "2026-03-01T11:59:50Z").append("cause", "MongoSocketOpenException: connection refused"));
    }

    @Test
    void shouldBeDownOnceTheLeaseRanOutThoughReadsAreStillServed() {
        RouterHealth health = at(NOW.toEpochMilli() - 1, List.of());

        assertThat(health.status()).isEqualTo(RouterHealth.Status.DOWN);
        assertThat(health.httpStatus()).isEqualTo(503);
        assertThat(health.leaseValid()).isFalse();
        assertThat(health.routingAgeMillis()).isEqualTo(5_001);
        assertThat(health.reasons()).singleElement().asString().contains("lease ran out 1 ms ago", "refuses writes");
    }

    @Test
    void shouldSayReadsAreRefusedTooOnceTheRoutingIsStaleBeyondItsBound() {
        RouterHealth within = at(NOW.toEpochMilli() - STALENESS.toMillis(), List.of(S2));
        RouterHealth beyond = at(NOW.toEpochMilli() - STALENESS.toMillis() - 1, List.of(S2));

        assertThat(within.status()).isEqualTo(RouterHealth.Status.DOWN);
        assertThat(within.reasons()).noneMatch(reason -> reason.contains("maxReadStaleness"));
        assertThat(beyond.status()).isEqualTo(RouterHealth.Status.DOWN);
        assertThat(beyond.httpStatus()).isEqualTo(503);
        assertThat(beyond.routingAgeMillis()).isEqualTo(LEASE.toMillis() + STALENESS.toMillis() + 1);
        assertThat(beyond.reasons()).hasSize(3).anySatisfy(reason -> assertThat(reason).contains("maxReadStaleness (60000 ms)", "reads"));
    }

    @Test
    void shouldBeDownWithNoRoutingAgeBeforeTheFirstLease() {
        RouterHealth health = at(0, List.of());

        assertThat(health.status()).isEqualTo(RouterHealth.Status.DOWN);
        assertThat(health.routingAgeMillis()).isNull();
        assertThat(health.reasons()).hasSize(2).first().asString().contains("has not held a lease yet");
    }
}
