package io.shardline.topology.internal;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

import io.shardline.core.key.ShardKey;
import io.shardline.core.key.ShardKeyStrategies;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.NamespaceConfig;

/**
 * Finds the chunk a document belongs to from the routing and config global stores: its encoded key is the
 * {@code _sk} the router stored, or, for a document written another way, what the namespace's strategy makes of
 * it; its chunk is the route with the greatest lower bound not above the key (routing keys are
 * {@code <namespace>|<min hex>}, and hex keeps the byte order).
 */
public final class ChunkLocator {

    private final ReadOnlyKeyValueStore<String, ValueAndTimestamp<ChunkRoute>> routes;
    private final ReadOnlyKeyValueStore<String, ValueAndTimestamp<NamespaceConfig>> configs;

    public ChunkLocator(ReadOnlyKeyValueStore<String, ValueAndTimestamp<ChunkRoute>> routes,
                        ReadOnlyKeyValueStore<String, ValueAndTimestamp<NamespaceConfig>> configs) {
        this.routes = routes;
        this.configs = configs;
    }

    /** A locator over the global routing and config stores a processor can see. */
    public static ChunkLocator of(org.apache.kafka.streams.processor.api.ProcessingContext context, String routesStore, String configsStore) {
        ReadOnlyKeyValueStore<String, ValueAndTimestamp<ChunkRoute>> routes = context.getStateStore(routesStore);
        ReadOnlyKeyValueStore<String, ValueAndTimestamp<NamespaceConfig>> configs = context.getStateStore(configsStore);
        return new ChunkLocator(routes, configs);
    }

    /** The hex lower bound of the document's chunk, or {@code null} when the namespace is not routed. */
    public String chunkMinHex(CdcChange change) {
        ShardKey key = keyOf(change);
        if (key == null) {
            return null;
        }
        return chunkMinHex(change.namespace(), key);
    }

    /** The hex lower bound of the chunk of {@code namespace} holding {@code key}, or {@code null} when not routed. */
    public String chunkMinHex(String namespace, ShardKey key) {
        String from = TopicCatalog.routingKey(namespace, "");
        String to = TopicCatalog.routingKey(namespace, key.toHex());
        try (KeyValueIterator<String, ValueAndTimestamp<ChunkRoute>> floor = routes.reverseRange(from, to)) {
            if (!floor.hasNext()) {
                return null;
            }
            KeyValue<String, ValueAndTimestamp<ChunkRoute>> entry = floor.next();
            return entry.key.substring(from.length());
        }
    }

    /** The encoded shard key of the changed document, or {@code null} when it has none (or its namespace is not configured). */
    public ShardKey keyOf(CdcChange change) {
        Object stored = change.postImage().get("_sk");
        if (stored instanceof String hex && !hex.isEmpty() && hex.matches("[0-9a-f]+")) {
            return ShardKey.ofHex(hex);
        }
        ValueAndTimestamp<NamespaceConfig> config = configs.get(change.namespace());
        if (config == null) {
            return null;
        }
        try {
            return ShardKeyStrategies.of(config.value()).keyOf(change.postImage());
        } catch (IllegalArgumentException unplaceable) {
            return null; // a document without its shard key counts for its shard, not for a chunk
        }
    }
}
