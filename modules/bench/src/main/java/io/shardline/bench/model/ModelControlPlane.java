package io.shardline.bench.model;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.controlplane.TopicTable;
import io.shardline.core.key.KeyHex;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.AbortMigration;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.RollbackMigration;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.SplitShard;
import io.shardline.schemas.avro.Thresholds;

/**
 * A run's own control plane: its topics (a prefix and worker group of its own), every shard of the cluster, and a fresh
 * namespace hashed on {@code userId} in four chunks, two on the first shard and two on the third (with four shards, moves
 * on disjoint shard pairs run in parallel); the operator commands the steps send, and what the run reads back (the
 * namespace's chunks, the migrations, whether the workers consumed every command).
 */
final class ModelControlPlane implements AutoCloseable {

    private final EmbeddedCluster cluster;
    private final TopicCatalog catalog;
    private final String namespace;
    private final String group;
    private final ControlPlanePublisher publisher;
    private final KafkaProducer<String, ShardCommand> commands;
    /** The cluster's shards, sorted. */
    private final List<String> shards;

    ModelControlPlane(EmbeddedCluster cluster, String id) throws Exception {
        this.cluster = cluster;
        this.catalog = new TopicCatalog("model" + id + ".", new RegistrySerdes(cluster.schemaRegistryUrl()));
        this.namespace = "model" + id + ".users";
        this.group = catalog.prefix() + "workers";
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        this.shards = cluster.shards().keySet().stream().sorted().toList();
        ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), shards, List.of(namespace), (short) 1);
        this.publisher = new ControlPlanePublisher(cluster.bootstrapServers(), catalog);
        for (String shard : shards) {
            publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shard).setConnectionString(cluster.shards().get(shard).connectionString())
                .setCapacityBytes(1L << 30).setCapacityOpsPerSec(100_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
        }
        publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(namespace).setStrategy(ShardKeyStrategyType.HASHED)
            .setShardKeyFields(List.of("userId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
        List<ShardKey> cuts = InitialChunks.hashedBoundaries(4);
        String third = shards.get(2 % shards.size());
        publisher.publishRouting(namespace, InitialChunks.layout(namespace, 1, cuts, List.of(shards.get(0), shards.get(0), third, third)));
        this.commands = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()),
            catalog.commands().keySerde().serializer(), catalog.commands().valueSerde().serializer());
    }

    TopicCatalog catalog() {
        return catalog;
    }

    String namespace() {
        return namespace;
    }

    /** MoveChunk of the chunk at {@code index} to another shard (which one also by {@code index}); what was sent. */
    String move(int index) throws Exception {
        ChunkRoute chunk = chunk(index);
        List<String> others = shards.stream().filter(s -> !s.equals(chunk.getShardId())).toList();
        String target = others.get(index % others.size());
        return send(MoveChunk.newBuilder().setNamespace(namespace).setChunkMin(chunk.getMin()).setTargetShardId(target).build())
            + " [" + KeyHex.of(chunk.getMin()) + ") " + chunk.getShardId() + "->" + target;
    }

    /** SplitShard of the chunk at {@code index} on its shard; what was sent. */
    String split(int index) throws Exception {
        ChunkRoute chunk = chunk(index);
        return send(SplitShard.newBuilder().setShardId(chunk.getShardId()).setNamespace(namespace).setChunkMin(chunk.getMin())
            .setByLoad(false).build()) + " [" + KeyHex.of(chunk.getMin()) + ") on " + chunk.getShardId();
    }

    /** RollbackMigration or AbortMigration ({@code kind}) of the latest migration that has not ended; what was sent. */
    String end(ModelStep.Kind kind) throws Exception {
        MigrationState latest = latestUnfinished();
        if (latest == null) {
            return "no migration to " + kind.name().toLowerCase(Locale.ROOT);
        }
        Object body = kind == ModelStep.Kind.ROLLBACK ? RollbackMigration.newBuilder().setMigrationId(latest.getMigrationId()).build()
            : AbortMigration.newBuilder().setMigrationId(latest.getMigrationId()).build();
        return send(body) + " " + latest.getMigrationId() + " in " + latest.getPhase();
    }

    /**
     * Waits until the worker group consumed every command and every migration ended: null when they did, otherwise the
     * migrations not ended at the timeout.
     */
    String awaitSettled(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()));
             TopicTable<MigrationState> migrations = migrations()) {
            TopicPartition partition = new TopicPartition(catalog.commands().name(), 0);
            while (System.nanoTime() < deadline) {
                long end = admin.listOffsets(Map.of(partition, OffsetSpec.latest())).partitionResult(partition).get().offset();
                OffsetAndMetadata committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().get(partition);
                List<MigrationState> open = migrations.refresh().values().values().stream().filter(m -> !MigrationPhases.ended(m)).toList();
                if (committed != null && committed.offset() >= end && open.isEmpty()) {
                    return null;
                }
                Thread.sleep(500);
            }
            return "did not settle within " + timeout + ": migrations not ended " + migrations.refresh().values().values().stream()
                .filter(m -> !MigrationPhases.ended(m)).map(m -> m.getMigrationId() + " " + m.getPhase() + (m.getError() == null ? "" : " (" + m.getError() + ")"))
                .toList();
        }
    }

    /** A table of the routing topic, for the caller to refresh and close. */
    TopicTable<ChunkRoute> routing() {
        return new TopicTable<>(cluster.bootstrapServers(), catalog.routing(), catalog.controlDlq().name(), "bench");
    }

    /** A table of the migrations topic, for the caller to refresh and close. */
    TopicTable<MigrationState> migrations() {
        return new TopicTable<>(cluster.bootstrapServers(), catalog.migrations(), catalog.controlDlq().name(), "bench");
    }

    private ChunkRoute chunk(int index) {
        try (TopicTable<ChunkRoute> routing = routing()) {
            List<ChunkRoute> chunks = routing.refresh().values().values().stream().filter(r -> r.getNamespace().equals(namespace))
                .sorted(Comparator.comparing(r -> KeyHex.of(r.getMin()))).toList();
            return chunks.get(index % chunks.size());
        }
    }

    /** The latest migration that has not ended, waiting a little for one a command just sent may still be planning. */
    private MigrationState latestUnfinished() throws InterruptedException {
        try (TopicTable<MigrationState> migrations = migrations()) {
            long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            while (true) {
                MigrationState latest = migrations.refresh().values().values().stream().filter(m -> !MigrationPhases.ended(m))
                    .max(Comparator.comparing(MigrationState::getStartedAt)).orElse(null);
                if (latest != null || System.nanoTime() > deadline) {
                    return latest;
                }
                Thread.sleep(100);
            }
        }
    }

    private String send(Object body) throws Exception {
        String commandId = UUID.randomUUID().toString();
        commands.send(new ProducerRecord<>(catalog.commands().name(), "model", ShardCommand.newBuilder().setCommandId(commandId)
            .setIssuer("model").setTimestamp(Instant.now()).setCommand(body).build())).get();
        return "command " + commandId.substring(0, 8);
    }

    @Override
    public void close() {
        commands.close();
        publisher.close();
    }
}
