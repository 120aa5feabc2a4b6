package io.shardline.topology.balancer.policy;

/** Where a chunk would be split, from what is known of its keys. */
@FunctionalInterface
public interface SplitPoints {

    /**
     * @param chunk    the chunk
     * @param owner    only documents seen on this shard count (a migration may have copied some elsewhere)
     * @param byWrites weigh keys by their writes instead of counting documents
     */
    SplitPoint find(ChunkView chunk, String owner, boolean byWrites);
}
