package io.shardline.embedded;

import io.shardline.schemas.ConnectRestClient;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.embedded.internal.DebeziumStreaming;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.shard.EmbeddedShard;
import io.shardline.shard.EmbeddedShardConfig;

/**
 * Everything Shardline needs, in one JVM: a KRaft broker, Apicurio Registry (child JVM), N embedded shards, and
 * a Kafka Connect worker running one Debezium MongoDB connector per shard, so every shard's changes land in
 * {@code cdc.<shard>.<db>.<coll>}. Closing stops all of it, child JVM included.
 */
public final class EmbeddedCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedCluster.class);
    private static final Duration CONNECTOR_START_TIMEOUT = Duration.ofSeconds(90);

    private final EmbeddedClusterConfig config;
    private final List<AutoCloseable> started = new ArrayList<>();
    private final Map<String, EmbeddedShard> shards = new LinkedHashMap<>();
    private final List<String> connectors = new ArrayList<>();
    /** The connectors of the shards {@link #addShard} started, by shard id. */
    private final Map<String, String> addedConnectors = new java.util.concurrent.ConcurrentHashMap<>();
    private String bootstrapServers;
    private TopicCatalog catalog;
    private SchemaRegistryProcess registry;
    private EmbeddedConnect connect;
    private Duration startupTime;

    private EmbeddedCluster(EmbeddedClusterConfig config) {
        this.config = config;
    }

    /** Starts every part; on failure, stops what was started and rethrows. */
    public static EmbeddedCluster start(EmbeddedClusterConfig config) {
        EmbeddedCluster cluster = new EmbeddedCluster(config);
        long begin = System.nanoTime();
        try {
            cluster.startParts();
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
        cluster.startupTime = Duration.ofNanos(System.nanoTime() - begin);
        return cluster;
    }

    private void startParts() {
        CompletableFuture<SchemaRegistryProcess> registryStart = config.schemaRegistry()
            ? CompletableFuture.supplyAsync(() -> SchemaRegistryProcess.start(config.workDir().resolve("registry")))
            : CompletableFuture.completedFuture(null);
        try {
            bootstrapServers = config.kafkaBootstrap() != null ? config.kafkaBootstrap()
                : track(EmbeddedKafka.start(config.workDir().resolve("kafka"))).bootstrapServers();
            for (int i = 1; i <= config.shards(); i++) {
                String id = "s" + i;
                shards.put(id, track(EmbeddedShard.start(id, EmbeddedShardConfig.defaults(id)
                    .withOplogRetentionEntries(config.oplogRetentionEntries()))));
            }
            if (config.cdc()) {
                connect = track(EmbeddedConnect.start(bootstrapServers, config.topicPrefix() + "connect", config.topicPrefix()));
                deployConnectors();
            }
        } finally {
            registry = awaitRegistry(registryStart);
        }
        if (registry != null) {
            catalog = new TopicCatalog(config.topicPrefix(), new RegistrySerdes(registry.url()));
            ControlPlaneTopics.ensure(bootstrapServers, catalog, (short) 1);
        }
    }

    private SchemaRegistryProcess awaitRegistry(CompletableFuture<SchemaRegistryProcess> registryStart) {
        try {
            SchemaRegistryProcess process = registryStart.join();
            return process == null ? null : track(process);
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException runtime ? runtime : e;
        }
    }

    private void deployConnectors() {
        ConnectorTemplate template = ConnectorTemplate.load(ConnectorTemplate.MONGODB_SHARD);
        ConnectRestClient rest = connect.rest();
        try {
            for (EmbeddedShard shard : shards.values()) {
                String json = template.render(Map.of(
                    "SHARD_ID", shard.shardId(),
                    "MONGODB_URI", shard.connectionString(),
                    "REPLICATION_FACTOR", "1"));
                connectors.add(rest.deploy(json));
            }
            awaitStreaming();
        } catch (IOException e) {
            throw new IllegalStateException("deploying the CDC connectors failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while deploying the CDC connectors", e);
        }
    }

    /** Every connector's task runs and has finished its snapshot: what is written from now on is streamed once. */
    private void awaitStreaming() throws IOException, InterruptedException {
        for (String name : connectors) {
            connect.rest().awaitRunning(name, CONNECTOR_START_TIMEOUT);
        }
        for (String shardId : shards.keySet()) {
            DebeziumStreaming.await("cdc." + shardId, CONNECTOR_START_TIMEOUT);
        }
    }

    private <T extends AutoCloseable> T track(T part) {
        synchronized (started) {
            started.add(part);
        }
        return part;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Base URL of the registry, or {@code null} when it was not started. */
    public String schemaRegistryUrl() {
        return registry == null ? null : registry.url();
    }

    /** The control-plane topics with their serdes; {@code null} without a registry. */
    public TopicCatalog catalog() {
        return catalog;
    }

    public SchemaRegistryProcess schemaRegistry() {
        return registry;
    }

    /** Base URL of Connect's REST API, or {@code null} when CDC was not started. */
    public String connectUrl() {
        return connect == null ? null : connect.url();
    }

    public EmbeddedConnect connect() {
        return connect;
    }

    public Map<String, EmbeddedShard> shards() {
        return Collections.unmodifiableMap(shards);
    }

    /** Names of the deployed CDC connectors, one per shard. */
    public List<String> connectors() {
        return List.copyOf(connectors);
    }

    public EmbeddedClusterConfig config() {
        return config;
    }

    public Duration startupTime() {
        return startupTime;
    }

    /**
     * Replaces the Connect worker with a new one in the same group: the new worker reads the connectors and their
     * offsets back from Kafka and resumes streaming.
     */
    public void restartConnect() {
        if (connect == null) {
            throw new IllegalStateException("CDC is not enabled in this cluster");
        }
        synchronized (started) {
            started.remove(connect);
        }
        connect.close();
        connect = track(EmbeddedConnect.start(bootstrapServers, config.topicPrefix() + "connect", config.topicPrefix()));
        try {
            awaitStreaming();
        } catch (IOException e) {
            throw new IllegalStateException("connectors did not come back after the Connect restart", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for connectors", e);
        }
    }

    /**
     * Starts one more shard with its CDC connector, streaming once this returns: for tests that need more shards than the
     * cluster started with. {@link #removeShard} stops it again.
     */
    public EmbeddedShard addShard(String id) {
        return addShard(id, EmbeddedShardConfig.defaults(id).withOplogRetentionEntries(config.oplogRetentionEntries()));
    }

    /** {@link #addShard(String)} with the shard's own settings (a service time, say). */
    public EmbeddedShard addShard(String id, EmbeddedShardConfig shardConfig) {
        if (connect == null) {
            throw new IllegalStateException("CDC is not enabled in this cluster");
        }
        EmbeddedShard shard = EmbeddedShard.start(id, shardConfig);
        synchronized (started) {
            shards.put(id, shard);
        }
        captureShard(id, shard.connectionString());
        return shard;
    }

    /**
     * Deploys the CDC connector of a shard that runs elsewhere (another process, another network namespace), streaming
     * once this returns; {@link #removeShard} deletes it again.
     */
    public void captureShard(String id, String connectionString) {
        if (connect == null) {
            throw new IllegalStateException("CDC is not enabled in this cluster");
        }
        try {
            String name = connect.rest().deploy(ConnectorTemplate.load(ConnectorTemplate.MONGODB_SHARD).render(Map.of(
                "SHARD_ID", id, "MONGODB_URI", connectionString, "REPLICATION_FACTOR", "1")));
            synchronized (started) {
                connectors.add(name);
            }
            addedConnectors.put(id, name);
            connect.rest().awaitRunning(name, CONNECTOR_START_TIMEOUT);
            DebeziumStreaming.await("cdc." + id, CONNECTOR_START_TIMEOUT);
        } catch (IOException e) {
            removeShard(id);
            throw new IllegalStateException("deploying the CDC connector of " + id + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            removeShard(id);
            throw new IllegalStateException("interrupted while deploying the CDC connector of " + id, e);
        }
    }

    /** Deletes the CDC connector of a shard {@link #addShard} started (and stops the shard) or {@link #captureShard} captured. */
    public void removeShard(String id) {
        EmbeddedShard shard;
        synchronized (started) {
            shard = shards.remove(id);
        }
        String name = addedConnectors.remove(id);
        try {
            if (name != null) {
                connect.rest().delete(name);
                synchronized (started) {
                    connectors.remove(name);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("deleting the CDC connector of " + id + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while deleting the CDC connector of " + id, e);
        } finally {
            if (shard != null) {
                shard.close();
            }
        }
    }

    /** One {@code KEY=VALUE} per endpoint, in the order {@code shardline up} prints them. */
    public Map<String, String> endpoints() {
        Map<String, String> endpoints = new LinkedHashMap<>();
        endpoints.put("KAFKA_BOOTSTRAP", bootstrapServers());
        if (registry != null) {
            endpoints.put("SCHEMA_REGISTRY_URL", registry.confluentCompatibleUrl());
        }
        if (connect != null) {
            endpoints.put("CONNECT_URL", connect.url());
        }
        shards.forEach((id, shard) -> endpoints.put("SHARD_" + id, shard.connectionString()));
        return endpoints;
    }

    /** Stops everything that was started, newest first; a part that fails to stop does not keep the others running. */
    @Override
    public void close() {
        List<AutoCloseable> parts;
        synchronized (started) {
            parts = new ArrayList<>(started);
            started.clear();
        }
        Collections.reverse(parts);
        for (AutoCloseable part : parts) {
            closeWithin(part, PART_STOP_TIMEOUT);
        }
    }

    /** How long one part may take to stop before the rest are stopped anyway. */
    private static final java.time.Duration PART_STOP_TIMEOUT = java.time.Duration.ofSeconds(20);

    /**
     * Stops one part, giving up on it after the timeout: a connector task that does not stop (its shard already
     * gone) must not keep the broker, the registry's child JVM and the process itself from stopping.
     */
    private static void closeWithin(AutoCloseable part, java.time.Duration timeout) {
        Thread closer = new Thread(() -> {
            try {
                part.close();
            } catch (Exception e) {
                LOG.warn("stopping {} failed; continuing with the rest", part.getClass().getSimpleName(), e);
            }
        }, "stop-" + part.getClass().getSimpleName());
        closer.setDaemon(true);
        closer.start();
        try {
            closer.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (closer.isAlive()) {
            LOG.warn("{} did not stop within {}; stopping the rest", part.getClass().getSimpleName(), timeout);
        }
    }
}
