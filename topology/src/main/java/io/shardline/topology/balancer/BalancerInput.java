package io.shardline.topology.balancer;

import io.shardline.schemas.avro.ChunkStats;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.QueryLoadSample;
import io.shardline.schemas.avro.ShardStats;

/** What the balancer learns from, one control-plane topic each (passed in memory, never serialized). */
public sealed interface BalancerInput {

    record Size(ShardStats stats) implements BalancerInput {
    }

    record ChunkSize(ChunkStats stats) implements BalancerInput {
    }

    record Load(QueryLoadSample sample) implements BalancerInput {
    }

    record Migration(MigrationState state) implements BalancerInput {
    }
}
