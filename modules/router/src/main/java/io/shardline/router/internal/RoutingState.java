package io.shardline.router.internal;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import io.shardline.core.key.ShardKey;
import io.shardline.core.key.ShardKeyStrategies;
import io.shardline.core.key.ShardKeyStrategy;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.NamespaceRouting;
import io.shardline.core.routing.RoutingTable;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;

/**
 * What the router knows of the cluster: chunks, shards and namespace configs, as applied from the compacted
 * topics. Updated by one thread ({@link RoutingStateConsumer}), read by every request; the version is the highest
 * chunk version applied, which the router acknowledges to migration workers.
 */
public final class RoutingState {

    private final RoutingTable routing = new RoutingTable();
    private final Map<String, ShardDescriptor> shards = new ConcurrentHashMap<>();
    private final List<java.util.function.Consumer<ShardDescriptor>> shardListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<String, NamespaceConfig> configs = new ConcurrentHashMap<>();
    private final Map<String, ShardKeyStrategy> strategies = new ConcurrentHashMap<>();
    private final Object versionMonitor = new Object();
    private final java.util.List<java.util.function.Consumer<String>> routingListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private long version;

    /** Applies a routing record read at {@code offset} of the (single-partition) routing topic. */
    public void applyRoute(ChunkRoute route, long offset) {
        routing.put(Chunk.of(route));
        routingListeners.forEach(listener -> listener.accept(route.getNamespace()));
        bumpVersion(offset + 1);
    }

    /**
     * Applies the chunk records of a local routing store, read from the routing topic before {@code position}; the
     * router then reads the topic from there.
     */
    public void applyStored(java.util.Collection<Chunk> chunks, long position) {
        routing.putAll(chunks);
        java.util.Set<String> namespaces = new java.util.HashSet<>();
        chunks.forEach(chunk -> namespaces.add(chunk.namespace()));
        namespaces.forEach(namespace -> routingListeners.forEach(listener -> listener.accept(namespace)));
        bumpVersion(position);
    }

    /**
     * Every namespace's latest chunk records as of this call, unaffected by records applied later; empty while a
     * namespace that has a routing is between the records of one step (see {@link RoutingTable#midStep()}).
     */
    public Optional<java.util.List<java.util.Collection<Chunk>>> latestRecordsBetweenSteps() {
        synchronized (routing) {
            return routing.midStep().isEmpty() ? Optional.of(routing.latestRecords()) : Optional.empty();
        }
    }

    /** A routing record that could not be applied (sent to the DLQ) still moves the version past its offset. */
    public void skipRoutingRecord(long offset) {
        bumpVersion(offset + 1);
    }

    /** Applies a routing tombstone read at {@code offset}. */
    public void removeRoute(String namespace, ShardKey min, long offset) {
        routing.remove(namespace, min);
        routingListeners.forEach(listener -> listener.accept(namespace));
        bumpVersion(offset + 1);
    }

    /** Called with the namespace of every applied routing record. */
    public void onRoutingChange(java.util.function.Consumer<String> listener) {
        routingListeners.add(listener);
    }

    /**
     * Applies a shard descriptor unless the router holds a newer version of it (a record written by a stale writer,
     * or read out of order): returns whether it was applied.
     */
    public boolean applyShard(ShardDescriptor shard) {
        ShardDescriptor held = shards.get(shard.getShardId());
        if (held != null && held.getVersion() > shard.getVersion()) {
            return false;
        }
        shards.put(shard.getShardId(), shard);
        shardListeners.forEach(listener -> listener.accept(shard));
        return true;
    }

    /** Tells {@code listener} of every shard descriptor applied (a new address after a failover, DOWN, UP). */
    public void onShardChange(java.util.function.Consumer<ShardDescriptor> listener) {
        shardListeners.add(listener);
    }

    public void removeShard(String shardId) {
        shards.remove(shardId);
    }

    /**
     * Applies a namespace config unless the router holds a newer version of it; returns whether it was applied.
     *
     * @throws IllegalArgumentException naming the field when the config describes no usable strategy
     */
    public boolean applyConfig(NamespaceConfig config) {
        NamespaceConfig held = configs.get(config.getNamespace());
        if (held != null && held.getVersion() > config.getVersion()) {
            return false;
        }
        ShardKeyStrategy strategy = ShardKeyStrategies.of(config);
        configs.put(config.getNamespace(), config);
        strategies.put(config.getNamespace(), strategy);
        return true;
    }

    public void removeConfig(String namespace) {
        configs.remove(namespace);
        strategies.remove(namespace);
    }

    /** The namespaces with a config, sorted. */
    public java.util.SortedSet<String> namespaces() {
        return new java.util.TreeSet<>(configs.keySet());
    }

    public Optional<NamespaceRouting> routing(String namespace) {
        return routing.namespace(namespace);
    }

    public Optional<ShardKeyStrategy> strategy(String namespace) {
        return Optional.ofNullable(strategies.get(namespace));
    }

    /** When writes to the namespace are acknowledged, by its config; STANDBY (the safe one) for a namespace without one. */
    public io.shardline.schemas.avro.WriteDurability durability(String namespace) {
        NamespaceConfig config = configs.get(namespace);
        return config == null || config.getDurability() == null ? io.shardline.schemas.avro.WriteDurability.STANDBY : config.getDurability();
    }

    public Optional<ShardDescriptor> shard(String shardId) {
        return Optional.ofNullable(shards.get(shardId));
    }

    public Map<String, ShardDescriptor> shards() {
        return new HashMap<>(shards);
    }

    /**
     * The routing version applied: the position in the routing topic up to which every record is applied (its
     * offset + 1). Positions are unique and ordered across all namespaces, so a worker that published a fence at
     * offset {@code o} knows a router acknowledging a version above {@code o} applied it.
     */
    public long version() {
        synchronized (versionMonitor) {
            return version;
        }
    }

    /** Waits until a chunk version above {@code seen} is applied or the time is up; returns the version then. */
    public long awaitVersionAbove(long seen, long timeoutMillis) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        synchronized (versionMonitor) {
            while (version <= seen) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    break;
                }
                versionMonitor.wait(left);
            }
            return version;
        }
    }

    /**
     * Everything before {@code position} in the routing topic is applied: also the transaction markers that follow
     * the last record, which a topic written in transactions ends with.
     */
    public void appliedUpTo(long position) {
        bumpVersion(position);
    }

    private void bumpVersion(long position) {
        synchronized (versionMonitor) {
            if (position > version) {
                version = position;
            }
            versionMonitor.notifyAll();
        }
    }
}
