package io.shardline.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;

/** The parts of the embedded cluster can be left out; the shared cluster of the other ITs has them all. */
@ShardlineCluster
class EmbeddedClusterIT {

    @Test
    void shouldStartOnlyShardsOnTheGivenBrokerWhenRegistryAndCdcAreOff(TestBroker broker) throws Exception {
        Path workDir = Files.createTempDirectory("cluster-minimal-");
        EmbeddedClusterConfig config = EmbeddedClusterConfig.defaults(workDir)
            .withShards(1).withSchemaRegistry(false).withCdc(false).withKafkaBootstrap(broker.bootstrapServers());

        try (EmbeddedCluster minimal = EmbeddedCluster.start(config)) {
            assertThat(minimal.endpoints()).containsOnlyKeys("KAFKA_BOOTSTRAP", "SHARD_s1");
            assertThat(minimal.bootstrapServers()).isEqualTo(broker.bootstrapServers());
            assertThat(minimal.schemaRegistryUrl()).isNull();
            assertThat(minimal.connectUrl()).isNull();
            assertThat(minimal.catalog()).isNull();
        }
    }

    @Test
    void shouldGiveEachShardTheOplogRetentionAsked(TestBroker broker) throws Exception {
        EmbeddedClusterConfig config = EmbeddedClusterConfig.defaults(Files.createTempDirectory("cluster-oplog-"))
            .withShards(1).withSchemaRegistry(false).withCdc(false).withKafkaBootstrap(broker.bootstrapServers())
            .withOplogRetentionEntries(10);

        try (EmbeddedCluster small = EmbeddedCluster.start(config);
             var client = com.mongodb.client.MongoClients.create(small.shards().get("s1").connectionString())) {
            for (int i = 0; i < 25; i++) {
                client.getDatabase("app").getCollection("docs").insertOne(new org.bson.Document("_id", i));
            }
            assertThat(small.shards().get("s1").oplogSize()).isEqualTo(10);
        }
    }

    @Test
    void shouldListEveryEndpointOfTheFullCluster(EmbeddedCluster cluster) {
        assertThat(cluster.endpoints()).containsOnlyKeys("KAFKA_BOOTSTRAP", "SCHEMA_REGISTRY_URL", "CONNECT_URL", "SHARD_s1", "SHARD_s2");
        assertThat(cluster.connectors()).containsExactly("shardline-cdc-s1", "shardline-cdc-s2");
    }
}
