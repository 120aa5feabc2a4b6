package io.shardline.worker.plane;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;

import com.mongodb.client.MongoClient;

import io.shardline.controlplane.TopicTable;
import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.RouterAck;
import io.shardline.schemas.avro.ShardDescriptor;

/**
 * What every term of one worker reads and shares (its commands and each of its migration lanes): the routing, shards,
 * migrations and router acks tables, an admin client, and one MongoDB client per shard.
 */
final class PlaneViews implements AutoCloseable {

    /** How long a committed record may take to become readable (its transaction markers written) before a read fails. */
    private static final java.time.Duration READ_YOUR_WRITES = java.time.Duration.ofSeconds(15);

    private final String bootstrapServers;
    private final TopicCatalog catalog;
    private final String workerId;
    private final TopicTable<ChunkRoute> routing;
    private final TopicTable<ShardDescriptor> shards;
    private final TopicTable<MigrationState> migrations;
    private final TopicTable<RouterAck> acks;
    private final TopicTable<NamespaceConfig> configs;
    private final Admin admin;
    private final Map<String, MongoClient> clients = new ConcurrentHashMap<>();

    PlaneViews(String bootstrapServers, TopicCatalog catalog, String workerId) {
        this.bootstrapServers = bootstrapServers;
        this.catalog = catalog;
        this.workerId = workerId;
        String origin = "worker:" + workerId;
        this.routing = new TopicTable<>(bootstrapServers, catalog.routing(), catalog.controlDlq().name(), origin);
        this.shards = new TopicTable<>(bootstrapServers, catalog.shards(), catalog.controlDlq().name(), origin)
            .keepingNewest(ShardDescriptor::getVersion);
        this.migrations = new TopicTable<>(bootstrapServers, catalog.migrations(), catalog.controlDlq().name(), origin);
        this.acks = new TopicTable<>(bootstrapServers, catalog.routerAcks(), catalog.controlDlq().name(), origin);
        this.configs = new TopicTable<>(bootstrapServers, catalog.config(), catalog.controlDlq().name(), origin)
            .keepingNewest(NamespaceConfig::getVersion);
        this.admin = KafkaClients.fromEnvironment(bootstrapServers).admin();
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    TopicCatalog catalog() {
        return catalog;
    }

    String workerId() {
        return workerId;
    }

    TopicTable<ChunkRoute> routing() {
        return routing;
    }

    TopicTable<ShardDescriptor> shards() {
        return shards;
    }

    TopicTable<MigrationState> migrations() {
        return migrations;
    }

    TopicTable<RouterAck> acks() {
        return acks;
    }

    TopicTable<NamespaceConfig> configs() {
        return configs;
    }

    /** The shards' clients by shard id and connection string, shared by every term of the worker. */
    Map<String, MongoClient> clients() {
        return clients;
    }

    /**
     * Waits until the table of {@code topic}, if it is one of these, holds the record written there at {@code offset}:
     * what a committed transaction published is what the next read of the plane finds.
     */
    void awaitWritten(String topic, long offset) {
        for (TopicTable<?> table : List.of(routing, shards, migrations, acks, configs)) {
            if (table.topicName().equals(topic)) {
                table.refreshPast(offset, READ_YOUR_WRITES);
            }
        }
    }

    /** The end offset of every CDC topic of a shard, by namespace ({@code db.coll}). */
    Map<String, Long> cdcEnds(String shardId) {
        String prefix = "cdc." + shardId + ".";
        try {
            Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
            for (String topic : admin.listTopics().names().get()) {
                if (topic.startsWith(prefix) && topic.indexOf('.', prefix.length()) > 0) {
                    latest.put(new TopicPartition(topic, 0), OffsetSpec.latest());
                }
            }
            Map<String, Long> ends = new java.util.TreeMap<>();
            admin.listOffsets(latest).all().get().forEach((partition, info) -> ends.put(partition.topic().substring(prefix.length()), info.offset()));
            return ends;
        } catch (ExecutionException e) {
            throw new IllegalStateException("reading the CDC topics of " + shardId + " failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the CDC topics of " + shardId, e);
        }
    }

    /** Sets a consumer group's offsets (a sink connector's, before it starts); the group must have no members. */
    void commitGroupOffsets(String groupId, Map<TopicPartition, Long> offsets) {
        Map<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> committed = new java.util.HashMap<>();
        offsets.forEach((partition, offset) -> committed.put(partition, new org.apache.kafka.clients.consumer.OffsetAndMetadata(offset)));
        try {
            admin.alterConsumerGroupOffsets(groupId, committed).all().get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("setting the offsets of group " + groupId + " failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while setting the offsets of group " + groupId, e);
        }
    }

    long cdcEnd(String shardId, String namespace) {
        String topic = TopicCatalog.cdcTopic(shardId, namespace);
        try {
            Set<String> existing = admin.listTopics().names().get();
            if (!existing.contains(topic)) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty()).configs(Map.of("cleanup.policy", "delete",
                        "retention.ms", Long.toString(TopicCatalog.CDC_RETENTION.toMillis()))))).all().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            TopicPartition partition = new TopicPartition(topic, 0);
            return admin.listOffsets(Map.of(partition, OffsetSpec.latest())).partitionResult(partition).get().offset();
        } catch (ExecutionException e) {
            throw new IllegalStateException("reading the end of " + topic + " failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the end of " + topic, e);
        }
    }

    @Override
    public void close() {
        routing.close();
        shards.close();
        migrations.close();
        acks.close();
        configs.close();
        admin.close();
        clients.values().forEach(MongoClient::close);
    }
}
