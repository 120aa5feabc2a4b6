package io.shardline.controlplane;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.Serde;

import io.shardline.schemas.KafkaClients;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.NamespaceRouting;
import io.shardline.schemas.Topic;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;

/**
 * Writes the cluster's desired state onto the compacted control-plane topics: shard descriptors, namespace configs
 * and chunks. Every publish is acknowledged by all in-sync replicas before it returns.
 */
public final class ControlPlanePublisher implements AutoCloseable {

    private final TopicCatalog catalog;
    private final KafkaProducer<byte[], byte[]> producer;

    public ControlPlanePublisher(String bootstrapServers, TopicCatalog catalog) {
        this.catalog = catalog;
        // One request in flight: publishing often follows the creation of its topics, and a first batch refused as
        // NOT_LEADER_OR_FOLLOWER while the next one in flight is taken leaves the first out of sequence for good (the
        // broker answers OUT_OF_ORDER_SEQUENCE_NUMBER to each retry until the delivery timeout).
        this.producer = KafkaClients.fromEnvironment(bootstrapServers).bytesProducer(Map.of(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
            ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1));
    }

    public void publishShard(ShardDescriptor shard) {
        await(send(catalog.shards(), shard.getShardId(), shard));
    }

    public void publishConfig(NamespaceConfig config) {
        await(send(catalog.config(), config.getNamespace(), config));
    }

    /**
     * Publishes a whole, consistent chunk set of one namespace.
     *
     * @throws io.shardline.core.routing.RoutingInvariantException when the chunks do not cover the key space once
     */
    public void publishRouting(String namespace, List<Chunk> chunks) {
        NamespaceRouting.of(namespace, chunks);
        List<Future<RecordMetadata>> sent = chunks.stream().map(this::sendChunk).toList();
        sent.forEach(ControlPlanePublisher::await);
    }

    /** Publishes a command for the workers, keyed by the shard or namespace it is about. */
    public void publishCommand(String key, ShardCommand command) {
        await(send(catalog.commands(), key, command));
    }

    /** Publishes an event, keyed by its shard (or its namespace when it has none). */
    public void publishEvent(ShardEvent event) {
        await(send(catalog.events(), event.getShardId() != null ? event.getShardId() : event.getNamespace(), event));
    }

    /** Publishes one chunk record (a change of owner, state or version). */
    public void publishChunk(Chunk chunk) {
        await(sendChunk(chunk));
    }

    private Future<RecordMetadata> sendChunk(Chunk chunk) {
        return send(catalog.routing(), TopicCatalog.routingKey(chunk.namespace(), chunk.min().toHex()), chunk.toRoute());
    }

    private <V> Future<RecordMetadata> send(Topic<String, V> topic, String key, V value) {
        Serde<V> serde = topic.valueSerde();
        byte[] keyBytes = topic.keySerde().serializer().serialize(topic.name(), key);
        byte[] valueBytes = serde.serializer().serialize(topic.name(), value);
        return producer.send(new ProducerRecord<>(topic.name(), keyBytes, valueBytes));
    }

    private static void await(Future<RecordMetadata> future) {
        try {
            future.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("publishing to the control plane failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing to the control plane", e);
        }
    }

    @Override
    public void close() {
        producer.close();
    }
}
