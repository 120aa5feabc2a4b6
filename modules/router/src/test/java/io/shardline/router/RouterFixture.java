package io.shardline.router;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.routing.Chunk;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.TestNames;

/** Registers shards, namespaces and chunks for router tests on their own control-plane topics. */
final class RouterFixture {

    final TopicCatalog catalog;
    final ControlPlanePublisher publisher;
    final EmbeddedCluster cluster;

    RouterFixture(EmbeddedCluster cluster, TestNames names) {
        this(cluster, names.topicPrefix());
    }

    /** A fixture on the control-plane topics named with {@code topicPrefix}. */
    RouterFixture(EmbeddedCluster cluster, String topicPrefix) {
        this.cluster = cluster;
        this.catalog = new TopicCatalog(topicPrefix, new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        this.publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog);
    }

    /**
     * Registers the cluster's shards s1 and s2 and a third embedded shard s3, started here for the test class (which
     * closes it).
     */
    EmbeddedShard registerThreeShards(TestNames names) {
        EmbeddedShard s3 = EmbeddedShard.start("s3-" + names.database());
        register("s1", cluster.shards().get("s1"));
        register("s2", cluster.shards().get("s2"));
        register("s3", s3);
        return s3;
    }

    void register(String shardId, EmbeddedShard shard) {
        publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shardId).setConnectionString(shard.connectionString())
            .setCapacityBytes(1L << 30).setCapacityOpsPerSec(10_000).setState(ShardState.ACTIVE).setVersion(1)
            .setUpdatedAt(Instant.now()).build());
    }

    void namespace(String namespace, ShardKeyStrategyType strategy, List<String> fields, List<Chunk> chunks) {
        namespace(namespace, strategy, fields, null, chunks);
    }

    /** A namespace whose tenants are split over {@code tenantSuffixBuckets} hashed sub-ranges (TENANT strategy). */
    void namespace(String namespace, ShardKeyStrategyType strategy, List<String> fields, Integer tenantSuffixBuckets, List<Chunk> chunks) {
        publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(namespace).setStrategy(strategy)
            .setShardKeyFields(fields).setTenantSuffixBuckets(tenantSuffixBuckets).setThresholds(Thresholds.newBuilder().build())
            .setEpoch(1).setVersion(1).build());
        publisher.publishRouting(namespace, chunks);
    }

    ShardRouter router() throws InterruptedException {
        return ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), catalog), new SimpleMeterRegistry(), Duration.ofSeconds(60));
    }
}
