package io.shardline.topology.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.function.ToLongFunction;

import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

import io.shardline.schemas.Topic;

/**
 * The compacted control-plane topics every controller sub-topology reads whole (routing, namespace configs, shard
 * descriptors, key samples), registered on one builder once however many sub-topologies ask for them: a topic can
 * have only one source in a topology.
 */
public final class GlobalTables {

    private final StreamsBuilder builder;
    private final Map<String, String> storesByTopic = new HashMap<>();

    public GlobalTables(StreamsBuilder builder) {
        this.builder = builder;
    }

    public StreamsBuilder builder() {
        return builder;
    }

    /**
     * The name of the global store holding the topic, registering it under {@code storeName} on first use.
     *
     * @throws IllegalStateException if the topic was registered before under another store name
     */
    public <V> String store(Topic<String, V> topic, String storeName) {
        if (registered(topic, storeName)) {
            return storeName;
        }
        builder.globalTable(topic.name(),
            Consumed.with(topic.keySerde(), topic.valueSerde()).withName(storeName + "-source"),
            Materialized.<String, V, KeyValueStore<Bytes, byte[]>>as(storeName)
                .withKeySerde(topic.keySerde()).withValueSerde(topic.valueSerde()));
        return storeName;
    }

    /**
     * Like {@link #store}, for a topic whose values carry a version: an older version never replaces a newer one
     * (the store's values are read as those of {@link #store}, with their record timestamps).
     */
    public <V> String versionedStore(Topic<String, V> topic, String storeName, ToLongFunction<V> version) {
        if (registered(topic, storeName)) {
            return storeName;
        }
        builder.addGlobalStore(
            Stores.timestampedKeyValueStoreBuilder(Stores.persistentTimestampedKeyValueStore(storeName), topic.keySerde(), topic.valueSerde())
                .withLoggingDisabled(),
            topic.name(), Consumed.with(topic.keySerde(), topic.valueSerde()).withName(storeName + "-source"),
            () -> new NewerVersionOnly<>(storeName, version));
        return storeName;
    }

    private boolean registered(Topic<String, ?> topic, String storeName) {
        String known = storesByTopic.putIfAbsent(topic.name(), storeName);
        if (known != null && !known.equals(storeName)) {
            throw new IllegalStateException("topic " + topic.name() + " is already the global store " + known + ", not " + storeName);
        }
        return known != null;
    }
}
