package io.shardline.embedded;

import java.nio.file.Path;
import java.util.Objects;

import io.shardline.schemas.TopicCatalog;

/**
 * What {@link EmbeddedCluster} starts.
 *
 * @param shards         number of embedded shards, named {@code s1..sN}
 * @param topicPrefix    prefix of every control-plane topic (and of Connect's storage topics)
 * @param workDir        where the broker, Connect and the registry keep their files
 * @param schemaRegistry start Apicurio Registry (needed by anything that writes control-plane records)
 * @param cdc            start Kafka Connect and one Debezium connector per shard
 * @param kafkaBootstrap an existing broker to use instead of starting one in-process; {@code null} starts one
 */
public record EmbeddedClusterConfig(int shards, String topicPrefix, Path workDir, boolean schemaRegistry, boolean cdc,
                                    String kafkaBootstrap) {

    public EmbeddedClusterConfig {
        Objects.requireNonNull(topicPrefix, "topicPrefix");
        Objects.requireNonNull(workDir, "workDir");
        if (shards < 1 || shards > 64) {
            throw new IllegalArgumentException("shards must be in [1, 64], was " + shards);
        }
    }

    public static EmbeddedClusterConfig defaults(Path workDir) {
        return new EmbeddedClusterConfig(3, TopicCatalog.DEFAULT_PREFIX, workDir, true, true, null);
    }

    public EmbeddedClusterConfig withShards(int count) {
        return new EmbeddedClusterConfig(count, topicPrefix, workDir, schemaRegistry, cdc, kafkaBootstrap);
    }

    public EmbeddedClusterConfig withSchemaRegistry(boolean enabled) {
        return new EmbeddedClusterConfig(shards, topicPrefix, workDir, enabled, cdc, kafkaBootstrap);
    }

    public EmbeddedClusterConfig withCdc(boolean enabled) {
        return new EmbeddedClusterConfig(shards, topicPrefix, workDir, schemaRegistry, enabled, kafkaBootstrap);
    }

    public EmbeddedClusterConfig withTopicPrefix(String prefix) {
        return new EmbeddedClusterConfig(shards, prefix, workDir, schemaRegistry, cdc, kafkaBootstrap);
    }

    public EmbeddedClusterConfig withKafkaBootstrap(String bootstrap) {
        return new EmbeddedClusterConfig(shards, topicPrefix, workDir, schemaRegistry, cdc, bootstrap);
    }
}
