package io.shardline.topology.balancer.policy;

import java.util.List;
import java.util.Optional;

/**
 * Relief for an overloaded shard that cannot be split: when each candidate chunk is one hot key, the chunk after the
 * top one is moved away whole, so that the shard keeps its hot key and loses the rest of the weight. A shard with a
 * single chunk has nothing to move.
 */
public final class MovePolicy {

    /**
     * @param shard    the overloaded shard
     * @param target   the shard chosen to take the weight
     * @param byWeight the shard's chunks, biggest (or busiest) first, none of which could be split
     */
    public Optional<Decision.Move> decide(ShardView shard, ShardView target, List<ChunkView> byWeight) {
        if (byWeight.size() < 2) {
            return Optional.empty();
        }
        return Optional.of(new Decision.Move(shard, target, byWeight.get(1)));
    }
}
