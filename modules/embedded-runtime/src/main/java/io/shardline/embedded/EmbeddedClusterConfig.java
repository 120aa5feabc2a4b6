package io.shardline.embedded;

import java.nio.file.Path;
import java.util.Objects;

import io.shardline.schemas.TopicCatalog;
import io.shardline.shard.EmbeddedShardConfig;

/**
 * What {@link EmbeddedCluster} starts.
 *
 * @param shards         number of embedded shards, named {@code s1..sN}
 * @param topicPrefix    prefix of every control-plane topic (and of Connect's storage topics)
 * @param workDir        where the broker, Connect and the registry keep their files
 * @param schemaRegistry start Apicurio Registry (needed by anything that writes control-plane records)
 * @param cdc            start Kafka Connect and one Debezium connector per shard
 * @param kafkaBootstrap an existing broker to use instead of starting one in-process; {@code null} starts one
 * @param oplogRetentionEntries how many change events each shard's oplog keeps, as a replica set's oplog size: a
 *                       connector further behind than that fails with {@code ChangeStreamHistoryLost}
 */
public record EmbeddedClusterConfig(int shards, String topicPrefix, Path workDir, boolean schemaRegistry, boolean cdc,
                                    String kafkaBootstrap, int oplogRetentionEntries) {

    public EmbeddedClusterConfig {
        Objects.requireNonNull(topicPrefix, "topicPrefix");
        Objects.requireNonNull(workDir, "workDir");
        if (shards < 1 || shards > 64) {
            throw new IllegalArgumentException("shards must be in [1, 64], was " + shards);
        }
        if (oplogRetentionEntries < 1) {
            throw new IllegalArgumentException("oplogRetentionEntries must be >= 1, was " + oplogRetentionEntries);
        }
    }

    public static EmbeddedClusterConfig defaults(Path workDir) {
        return new EmbeddedClusterConfig(3, TopicCatalog.DEFAULT_PREFIX, workDir, true, true, null,
            EmbeddedShardConfig.DEFAULT_OPLOG_RETENTION);
    }

    public EmbeddedClusterConfig withShards(int count) {
        return new EmbeddedClusterConfig(count, topicPrefix, workDir, schemaRegistry, cdc, kafkaBootstrap, oplogRetentionEntries);
    }

    public EmbeddedClusterConfig withSchemaRegistry(boolean enabled) {
        return new EmbeddedClusterConfig(shards, topicPrefix, workDir, enabled, cdc, kafkaBootstrap, oplogRetentionEntries);
    }

    public EmbeddedClusterConfig withCdc(boolean enabled) {
        return new EmbeddedClusterConfig(shards, topicPrefix, workDir, schemaRegistry, enabled, kafkaBootstrap, oplogRetentionEntries);
    }

    public EmbeddedClusterConfig withTopicPrefix(String prefix) {
        return new EmbeddedClusterConfig(shards, prefix, workDir, schemaRegistry, cdc, kafkaBootstrap, oplogRetentionEntries);
    }

    public EmbeddedClusterConfig withOplogRetentionEntries(int entries) {
        return new EmbeddedClusterConfig(shards, topicPrefix, workDir, schemaRegistry, cdc, kafkaBootstrap, entries);
    }

    public EmbeddedClusterConfig withKafkaBootstrap(String bootstrap) {
        return new EmbeddedClusterConfig(shards, topicPrefix, workDir, schemaRegistry, cdc, bootstrap, oplogRetentionEntries);
    }
}
