package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.controlplane.TopicTable;
import io.shardline.controlplane.TopicTail;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.Chunk;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;
import io.shardline.worker.plane.ControlPlane;
import io.shardline.worker.plane.Ownership;

/**
 * A worker reads its own publications: a transaction's commit returns before its records are readable, and a step that
 * reads the routing right after publishing a route (the grace period after a cutover, a route derived from the last one)
 * must find it. Each route here is derived from the one the plane reads right after publishing the last.
 */
@ShardlineCluster
class ControlPlaneReadYourWritesIT {

    @Test
    void shouldReadEveryRouteItPublishedRightAfterTheCommit(EmbeddedCluster cluster, TestNames names) throws Exception {
        TopicCatalog catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        String namespace = names.database() + ".users";
        Chunk chunk = Chunk.active(namespace, new KeyRange(ShardKey.MIN, null), "s1", 1, 1);
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog)) {
            publisher.publishChunk(chunk);
        }
        String key = TopicCatalog.routingKey(namespace, chunk.min().toHex());
        Ownership ownership = new Ownership(Duration.ofSeconds(5));
        ownership.begin(1, true);
        int rounds = 150;
        try (ControlPlane plane = new ControlPlane(cluster.bootstrapServers(), catalog, "w1", names.applicationId("plane"), ownership)) {
            plane.beginTerm();
            for (int i = 0; i < rounds; i++) {
                ChunkRoute last = plane.routing().get(key);
                assertThat(last.getVersion()).as("the route read right after publishing version %d", i + 1).isEqualTo(i + 1);
                plane.publishRoute(ChunkRoute.newBuilder(last).setVersion(last.getVersion() + 1).setShardId(i % 2 == 0 ? "s2" : "s1").build());
            }
        }

        List<Long> versions = new ArrayList<>();
        try (TopicTail<ChunkRoute> tail = new TopicTail<>(cluster.bootstrapServers(), catalog.routing(), true, catalog.controlDlq().name(), "test")) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (versions.size() < rounds + 1 && System.nanoTime() < deadline) {
                tail.poll(Duration.ofMillis(200)).forEach(appended -> versions.add(appended.value().getVersion()));
            }
        }
        assertThat(versions).as("one route per version, none derived twice from a stale read").doesNotHaveDuplicates().hasSize(rounds + 1);
    }

    @Test
    void shouldNameTheTopicWhenAnOffsetIsNeverReadable(EmbeddedCluster cluster, TestNames names) {
        TopicCatalog catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        try (TopicTable<ChunkRoute> routing = new TopicTable<>(cluster.bootstrapServers(), catalog.routing(), catalog.controlDlq().name(), "test")) {
            assertThatThrownBy(() -> routing.refreshPast(5, Duration.ofMillis(300)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(catalog.routing().name()).hasMessageContaining("offset 5 is not readable");
        }
    }
}
