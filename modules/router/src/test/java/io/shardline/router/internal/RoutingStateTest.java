package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;

class RoutingStateTest {

    private static ShardDescriptor shard(long version, ShardState state) {
        return ShardDescriptor.newBuilder().setShardId("s1").setConnectionString("mongodb://s1").setCapacityBytes(1).setCapacityOpsPerSec(1)
            .setState(state).setVersion(version).setUpdatedAt(Instant.EPOCH).build();
    }

    private static NamespaceConfig config(long version, String field) {
        return NamespaceConfig.newBuilder().setNamespace("auth.users").setStrategy(ShardKeyStrategyType.HASHED).setShardKeyFields(List.of(field))
            .setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(version).build();
    }

    @Test
    void shouldKeepTheNewestShardDescriptorWhateverOrderTheyArriveIn() {
        RoutingState state = new RoutingState();
        assertThat(state.applyShard(shard(2, ShardState.DRAINING))).isTrue();
        assertThat(state.applyShard(shard(1, ShardState.ACTIVE))).as("an older version").isFalse();
        assertThat(state.shard("s1").orElseThrow().getState()).isEqualTo(ShardState.DRAINING);
        assertThat(state.applyShard(shard(2, ShardState.RETIRED))).as("the same version: the later record").isTrue();
        assertThat(state.applyShard(shard(3, ShardState.ACTIVE))).isTrue();
        assertThat(state.shard("s1").orElseThrow().getState()).isEqualTo(ShardState.ACTIVE);
    }

    @Test
    void shouldKeepTheNewestNamespaceConfigWhateverOrderTheyArriveIn() {
        RoutingState state = new RoutingState();
        assertThat(state.applyConfig(config(5, "userId"))).isTrue();
        assertThat(state.applyConfig(config(4, "sessionId"))).as("an older version").isFalse();
        assertThat(state.strategy("auth.users").orElseThrow().fields()).containsExactly("userId");
        assertThat(state.applyConfig(config(6, "sessionId"))).isTrue();
        assertThat(state.strategy("auth.users").orElseThrow().fields()).containsExactly("sessionId");
    }
}
