package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.RouterHealth;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardHealth;
import io.shardline.schemas.avro.ShardState;

/** Which shards the router sends requests to, and how it refuses the others. */
class ShardAvailabilityTest {

    private static final Instant SINCE = Instant.parse("2026-03-01T12:00:00Z");

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final RoutingState state = new RoutingState();
    private final ShardAvailability availability = new ShardAvailability(state, new RouterMetrics(registry), () -> SINCE.plusMillis(1_500));

    private static ShardDescriptor shard(String id, ShardState lifecycle, ShardHealth health, Instant since, String cause) {
        return ShardDescriptor.newBuilder().setShardId(id).setConnectionString("mongodb://" + id).setCapacityBytes(1).setCapacityOpsPerSec(1)
            .setState(lifecycle).setVersion(1).setUpdatedAt(Instant.EPOCH).setHealth(health).setHealthSince(since).setHealthCause(cause).build();
    }

    private double refused(String shard) {
        return registry.find("router.shard.down.refused").tag("shard", shard).counters().stream().mapToDouble(c -> c.count()).sum();
    }

    @Test
    void shouldRefuseARequestNamingEachDownTargetSinceWhenAndWhyAndCountItPerShard() {
        state.applyShard(shard("s1", ShardState.ACTIVE, ShardHealth.UP, null, null));
        state.applyShard(shard("s2", ShardState.ACTIVE, ShardHealth.DOWN, SINCE, "MongoSocketOpenException: connection refused"));
        state.applyShard(shard("s3", ShardState.DRAINING, ShardHealth.DOWN, null, null));

        availability.require("find", List.of("s1"));
        assertThatThrownBy(() -> availability.require("insert", List.of("s1", "s3", "s2")))
            .isInstanceOfSatisfying(RouterException.class, e -> {
                assertThat(e.kind()).isEqualTo(RouterException.Kind.SHARD_DOWN);
                assertThat(e.getMessage()).startsWith("insert: shard s3 is DOWN: no cause given; shard s2 is DOWN since "
                    + "2026-03-01T12:00:00Z (1500 ms): MongoSocketOpenException: connection refused")
                    .contains("nothing of this request was sent to any shard");
            });

        assertThat(availability.down(List.of("s1", "s2", "s3", "s2"))).containsExactly("s2", "s3");
        assertThat(refused("s2")).isEqualTo(1);
        assertThat(refused("s3")).isEqualTo(1);
        assertThat(refused("s1")).isZero();
    }

    @Test
    void shouldRefuseOneShardsPartOfACommandOnlyWhileItIsDown() {
        state.applyShard(shard("s1", ShardState.ACTIVE, ShardHealth.UP, null, null));
        state.applyShard(shard("s2", ShardState.ACTIVE, ShardHealth.DOWN, SINCE, "no answer within the probe interval"));

        assertThat(availability.refusal("createIndexes", "s1")).isEmpty();
        assertThat(availability.refusal("createIndexes", "s2")).hasValueSatisfying(e -> {
            assertThat(e.kind()).isEqualTo(RouterException.Kind.SHARD_DOWN);
            assertThat(e.getMessage()).contains("createIndexes: shard s2 is DOWN", "it was not sent to it");
        });
        availability.leftOut("s2");
        assertThat(refused("s2")).isEqualTo(2);

        state.applyShard(ShardDescriptor.newBuilder(state.shard("s2").orElseThrow()).setVersion(2).setHealth(ShardHealth.UP)
            .setHealthCause(null).build());
        assertThat(availability.refusal("createIndexes", "s2")).isEmpty();
        assertThat(availability.isDown("s2")).isFalse();
        assertThat(availability.isDown("unregistered")).as("a shard the router does not know is not DOWN").isFalse();
    }

    @Test
    void shouldListTheDownShardsThatAreNotRetiredById() {
        state.applyShard(shard("s3", ShardState.ACTIVE, ShardHealth.DOWN, SINCE, "timed out"));
        state.applyShard(shard("s1", ShardState.DRAINING, ShardHealth.DOWN, null, null));
        state.applyShard(shard("s2", ShardState.ACTIVE, ShardHealth.UP, null, null));
        state.applyShard(shard("s4", ShardState.RETIRED, ShardHealth.DOWN, SINCE, "gone"));

        assertThat(availability.shardsDown()).containsExactly(new RouterHealth.DownShard("s1", null, null),
            new RouterHealth.DownShard("s3", SINCE, "timed out"));
    }
}
