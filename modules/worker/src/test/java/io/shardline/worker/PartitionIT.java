package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.TopicTable;
import io.shardline.controlplane.TopicTail;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.avro.AddStandby;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.NetworkNamespace;
import io.shardline.testing.ShardProcess;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * A network partition, not a dead process: the shard runs in a process of its own in a network namespace, and every
 * packet between it and this host (router, worker, Kafka Connect) is dropped, so connections hang instead of being
 * refused. The health monitor must find it DOWN from probes that time out, the failover must stop a CDC connector stuck
 * on the partitioned shard and promote the standby, and with durability STANDBY no acknowledged write is lost even
 * though the old primary is still alive, holding whatever it applied but the standby never got. Healed, the old
 * primary is wiped and comes back as the standby, never as a second primary.
 */
@ShardlineCluster
class PartitionIT {

    @Test
    void shouldFailOverAPartitionedShardLosingNoAcknowledgedWriteAndTakeItBackAsStandbyOnceHealed(EmbeddedCluster cluster, TestNames names)
            throws Exception {
        String unavailable = NetworkNamespace.unavailableBecause();
        Assumptions.assumeTrue(unavailable == null, () -> "no network namespaces on this machine: " + unavailable);
        String shardId = "n" + UUID.randomUUID().toString().substring(0, 6);
        try (NetworkNamespace network = NetworkNamespace.create();
             ShardProcess primary = ShardProcess.start(network.exec(), shardId, network.innerAddress());
             EmbeddedShard standby = EmbeddedShard.start(shardId + "-standby")) {
            cluster.captureShard(shardId, primary.connectionString());
            try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5), List.of(shardId, "s2"), List.of(shardId, shardId),
                     Map.of(shardId, primary.connectionString()));
                 TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), false, fixture.catalog.controlDlq().name(), "test");
                 TopicTable<ShardDescriptor> shards = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.shards(), fixture.catalog.controlDlq().name(), "test");
                 MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withConnectUrl(cluster.connectUrl()), new SimpleMeterRegistry())) {
                fixture.send(AddStandby.newBuilder().setShardId(shardId).setConnectionString(standby.connectionString()).build());
                FailoverIT.await(() -> standby.connectionString().equals(shards.refresh().get(shardId).getStandbyConnectionString()), Duration.ofSeconds(90),
                    "the standby added");
                MigrationFixture.Load load = fixture.new Load(2, 2);
                Thread.sleep(3_000);

                FailoverIT.Outcome outcome = FailoverIT.failOver(fixture, network::cut, primary.connectionString(), standby.connectionString(), events,
                    shards, shardId);
                Thread.sleep(1_000);
                network.heal();
                FailoverIT.await(() -> primary.connectionString().equals(shards.refresh().get(shardId).getStandbyConnectionString()), Duration.ofSeconds(90),
                    "the old primary, reachable again, back as the standby");
                load.close();

                Map<String, Boolean> lost = FailoverIT.lost(fixture, load, standby.connectionString(), shardId);
                System.out.printf("partition: DOWN %d ms after the cut, the failover published %d ms after it, a write accepted on the standby %d ms "
                    + "after it; promotion %s; durability STANDBY: %d acknowledged writes, %d failed, %d lost: %s%n", outcome.downMillis(),
                    outcome.publishedMillis(), outcome.servingMillis(), outcome.failedOver().getFigures(), load.writes.get(), load.failures.get(),
                    lost.size(), lost.keySet());
                assertThat(outcome.downMillis()).as("detected from probes that time out").isLessThan(5_000);
                assertThat(lost).as("acknowledged writes lost").isEmpty();
                assertThat(load.writes.get()).as("acknowledged writes").isGreaterThan(100);
                assertThat(shards.get(shardId).getConnectionString()).as("the old primary is never a primary again").isEqualTo(standby.connectionString());
            } finally {
                FailoverIT.deleteFailoverConnectors(cluster, shardId);
                cluster.removeShard(shardId);
            }
        }
    }
}
