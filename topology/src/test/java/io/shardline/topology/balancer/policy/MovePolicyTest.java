package io.shardline.topology.balancer.policy;

import static io.shardline.topology.balancer.policy.PolicyFixtures.chunk;
import static io.shardline.topology.balancer.policy.PolicyFixtures.shard;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

class MovePolicyTest {

    private final MovePolicy policy = new MovePolicy();
    private final ShardView target = shard("s2").storage(0.1).view();

    @Test
    void shouldMoveTheChunkAfterTheTopOneWholeToTheTarget() {
        ChunkView top = chunk("s1", "10", "20", 600, 0);
        ChunkView next = chunk("s1", "20", "30", 200, 0);
        ChunkView last = chunk("s1", "30", null, 100, 0);
        ShardView shard = shard("s1").storage(0.9).overloaded().chunks(top, next, last).view();

        Decision.Move move = policy.decide(shard, target, List.of(top, next, last)).orElseThrow();

        assertThat(move.source()).isEqualTo(shard);
        assertThat(move.chunk()).isEqualTo(next);
        assertThat(move.target()).isEqualTo(target);
    }

    @Test
    void shouldMoveNothingFromAShardWithASingleChunk() {
        ChunkView only = chunk("s1", "10", null, 900, 0);
        ShardView shard = shard("s1").storage(0.9).overloaded().chunks(only).view();

        assertThat(policy.decide(shard, target, List.of(only))).isEmpty();
        assertThat(policy.decide(shard, target, List.of())).isEmpty();
    }
}
