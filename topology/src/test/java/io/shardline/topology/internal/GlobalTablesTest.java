package io.shardline.topology.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.Properties;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.junit.jupiter.api.Test;

import io.shardline.schemas.Topic;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;

class GlobalTablesTest {

    private static final Topic<String, ShardDescriptor> SHARDS =
        new Topic<>("t.shards", Serdes.String(), AvroBinarySerde.of(ShardDescriptor.class), Topic.Cleanup.COMPACT, Duration.ZERO);

    @Test
    void shouldKeepTheNewerVersionOfAShardWhenAnOlderOneArrivesLate() {
        GlobalTables globals = new GlobalTables(new StreamsBuilder());
        globals.versionedStore(SHARDS, "shards", ShardDescriptor::getVersion);

        try (TopologyTestDriver driver = new TopologyTestDriver(globals.builder().build(), properties())) {
            TestInputTopic<String, ShardDescriptor> input = driver.createInputTopic(SHARDS.name(), Serdes.String().serializer(),
                SHARDS.valueSerde().serializer());
            KeyValueStore<String, ValueAndTimestamp<ShardDescriptor>> store = driver.getTimestampedKeyValueStore("shards");

            input.pipeInput("s1", shard(2, ShardState.DRAINING));
            input.pipeInput("s1", shard(1, ShardState.ACTIVE));
            assertThat(store.get("s1").value().getState()).as("version 1 came after version 2").isEqualTo(ShardState.DRAINING);

            input.pipeInput("s1", shard(2, ShardState.RETIRED));
            assertThat(store.get("s1").value().getState()).as("the same version replaces").isEqualTo(ShardState.RETIRED);

            input.pipeInput("s1", shard(3, ShardState.ACTIVE));
            assertThat(store.get("s1").value().getVersion()).isEqualTo(3L);

            input.pipeInput("s1", (ShardDescriptor) null);
            assertThat(store.get("s1")).as("a tombstone removes the shard").isNull();
        }
    }

    @Test
    void shouldRefuseOneTopicUnderTwoStoreNames() {
        GlobalTables globals = new GlobalTables(new StreamsBuilder());
        globals.versionedStore(SHARDS, "shards", ShardDescriptor::getVersion);

        assertThat(globals.versionedStore(SHARDS, "shards", ShardDescriptor::getVersion)).isEqualTo("shards");
        assertThatThrownBy(() -> globals.store(SHARDS, "other")).hasMessageContaining("already the global store shards");
    }

    private static ShardDescriptor shard(long version, ShardState state) {
        return ShardDescriptor.newBuilder().setShardId("s1").setConnectionString("mongodb://127.0.0.1:1/").setCapacityBytes(1)
            .setCapacityOpsPerSec(1).setState(state).setVersion(version).setUpdatedAt(Instant.EPOCH).build();
    }

    private static Properties properties() {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "global-tables-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        return props;
    }
}
