package io.shardline.topology;

import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;

import io.shardline.topology.internal.GlobalTables;

/**
 * Everything the controller role runs in one Kafka Streams application: the size tables and key samples
 * ({@link ShardSizeTopology}) and the split/merge decisions made from them ({@link RebalanceTopology}), sharing the
 * global tables of routing, namespace configs, shards and key samples.
 */
public final class ControllerTopology {

    private ControllerTopology() {
    }

    public static Topology build(ShardSizeTopology.Config sizes, RebalanceTopology.Config decisions) {
        if (!sizes.shardSizes().name().equals(decisions.shardSizes().name()) || !sizes.chunkSizes().name().equals(decisions.chunkSizes().name())
            || !sizes.keySamples().name().equals(decisions.keySamples().name())) {
            throw new IllegalArgumentException("the decisions must read the sizes and key samples the size topology writes ("
                + sizes.shardSizes().name() + ", " + sizes.chunkSizes().name() + ", " + sizes.keySamples().name() + "), not "
                + decisions.shardSizes().name() + ", " + decisions.chunkSizes().name() + ", " + decisions.keySamples().name());
        }
        GlobalTables globals = new GlobalTables(new StreamsBuilder());
        ShardSizeTopology.addTo(globals, sizes);
        RebalanceTopology.addTo(globals, decisions);
        return globals.builder().build();
    }
}
