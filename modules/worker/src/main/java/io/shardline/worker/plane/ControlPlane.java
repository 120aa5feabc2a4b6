package io.shardline.worker.plane;

import io.shardline.core.key.KeyHex;
import io.shardline.schemas.KafkaClients;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.IllegalGenerationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnknownMemberIdException;

import io.shardline.controlplane.TopicTable;
import io.shardline.schemas.DeadLetterHeaders;
import io.shardline.schemas.Topic;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.LaneRequest;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.RouterAck;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;

/**
 * A worker's view of the cluster: the routing, shards, migrations and router acks read from their compacted topics;
 * publishing routes (whose offsets are the routing versions routers acknowledge), migration states, events, shard
 * descriptors and dead letters; and the shards themselves through the MongoDB driver.
 */
public final class ControlPlane implements AutoCloseable {

    private final String bootstrapServers;
    private final TopicCatalog catalog;
    private final String workerId;
    private final PlaneViews views;
    /** What the current transaction sent, read back once it commits (guarded by {@link #transaction}). */
    private final List<java.util.concurrent.Future<RecordMetadata>> sentInTransaction = new ArrayList<>();
    /** Whether this plane closes the views: the worker's first, not the lanes' that share them. */
    private final boolean ownsViews;
    private final Ownership ownership;
    private final String transactionalId;
    /** Held for one transaction; reentrant, so sends inside {@link #atomically} join its transaction. */
    private final ReentrantLock transaction = new ReentrantLock();
    /** The transactional producer of the current term; null between terms. */
    private KafkaProducer<byte[], byte[]> producer;
    private volatile boolean newTermWanted;
    private final ShardConnections shardConnections;

    /**
     * @param transactionalId shared by every worker of the group: a new owner's producer fences the previous owner's
     * @param ownership       the term publications and shard changes are made under
     */
    public ControlPlane(String bootstrapServers, TopicCatalog catalog, String workerId, String transactionalId, Ownership ownership) {
        this(new PlaneViews(bootstrapServers, catalog, workerId), true, transactionalId, ownership);
    }

    private ControlPlane(PlaneViews views, boolean ownsViews, String transactionalId, Ownership ownership) {
        this.views = views;
        this.ownsViews = ownsViews;
        this.bootstrapServers = views.bootstrapServers();
        this.catalog = views.catalog();
        this.workerId = views.workerId();
        this.transactionalId = transactionalId;
        this.ownership = ownership;
        this.shardConnections = new ShardConnections(shardId -> shards().get(shardId), ownership, views.clients());
    }

    /**
     * A plane for another term of this worker (a migration lane): the same tables, admin client and shard clients, its
     * own transactional producer and ownership.
     */
    public ControlPlane sibling(String siblingTransactionalId, Ownership siblingOwnership) {
        return new ControlPlane(views, false, siblingTransactionalId, siblingOwnership);
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public TopicCatalog catalog() {
        return catalog;
    }

    public String workerId() {
        return workerId;
    }

    public Ownership ownership() {
        return ownership;
    }

    /**
     * Starts a term: a new transactional producer, whose initialisation fences every earlier producer of the group
     * (a previous owner, paused or not, can publish nothing from here on) and aborts what it left open.
     */
    public void beginTerm() {
        transaction.lock();
        try {
            closeProducer();
            Map<String, Object> settings = new HashMap<>();
            settings.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
            // A paused owner's open transaction holds back read-committed readers until its successor aborts it, or this.
            settings.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 20_000);
            // A transaction that follows another within milliseconds (a state, then the fence) finds the coordinator
            // still completing the last one and is told to retry: at the default backoff (100 ms, growing) a fence
            // waited ~0.5 s for that alone.
            settings.put(ProducerConfig.RETRY_BACKOFF_MS_CONFIG, 2);
            settings.put(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, 20);
            KafkaProducer<byte[], byte[]> fresh = KafkaClients.fromEnvironment(bootstrapServers).bytesProducer(settings);
            fresh.initTransactions();
            producer = fresh;
        } finally {
            transaction.unlock();
        }
    }

    /** Ends the term: nothing more is published by this worker until the next. */
    public void endTerm() {
        transaction.lock();
        try {
            closeProducer();
        } finally {
            transaction.unlock();
        }
    }

    private void closeProducer() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
            producer = null;
        }
    }

    /**
     * Runs {@code body} in one transaction: every publication it makes is written together or not at all, and only
     * while this worker's producer has not been fenced by a successor's. Nested calls join the outer transaction.
     */
    public <T> T atomically(Supplier<T> body) {
        transaction.lock();
        try {
            if (transaction.getHoldCount() > 1) {
                return body.get();
            }
            KafkaProducer<byte[], byte[]> current = producer;
            if (current == null) {
                throw new Ownership.Lost("this worker holds no term: " + ownership.reason());
            }
            T result;
            try {
                sentInTransaction.clear();
                current.beginTransaction();
                result = body.get();
                current.commitTransaction();
            } catch (RuntimeException e) {
                if (fencedBy(e)) {
                    ownership.ended("fenced: another worker holds the partition of this term (" + e.getMessage() + ")");
                    closeProducer();
                    // If the partition is still assigned here (a commit with a stale generation, say), only a new
                    // term brings it back: the command loop rejoins the group.
                    newTermWanted = true;
                    throw new Ownership.Lost("fenced: another worker holds the partition of this term");
                }
                try {
                    current.abortTransaction();
                } catch (KafkaException abortFailed) {
                    // The producer is in an error state it cannot leave (a fatal error such as an invalid transaction
                    // state): the term ends here, and the command loop rejoins the group for a new term and producer.
                    e.addSuppressed(abortFailed);
                    ownership.ended("the transactional producer failed: " + e);
                    closeProducer();
                    newTermWanted = true;
                    throw new Ownership.Lost("the transactional producer failed (" + e + "); a new term is needed");
                }
                throw e;
            }
            awaitReadable();
            return result;
        } finally {
            transaction.unlock();
        }
    }

    /**
     * True once after the producer failed beyond recovery: the caller (the command loop) rejoins the group, and the
     * term that follows starts with a new producer.
     */
    public boolean takeNewTermWanted() {
        boolean wanted = newTermWanted;
        newTermWanted = false;
        return wanted;
    }

    /** {@link #atomically(Supplier)} for a body without a result. */
    public void atomically(Runnable body) {
        atomically(() -> {
            body.run();
            return null;
        });
    }

    /**
     * Commits the commands consumer's offset in a transaction with its group generation: it fails (and the term ends)
     * when a successor fenced this producer or the group moved to a newer generation. The metadata says who holds the
     * commands and whether they were handed over.
     */
    public void commitOffset(TopicPartition partition, OffsetAndMetadata offset, ConsumerGroupMetadata group) {
        atomically(() -> {
            KafkaProducer<byte[], byte[]> current = producer;
            if (current == null) {
                throw new Ownership.Lost("this worker holds no term");
            }
            current.sendOffsetsToTransaction(Map.of(partition, offset), group);
        });
    }

    /** True when the failure means another worker owns the commands: this worker's producer or generation is stale. */
    private static boolean fencedBy(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof ProducerFencedException || cause instanceof InvalidProducerEpochException
                || cause instanceof CommitFailedException || cause instanceof FencedInstanceIdException
                || cause instanceof IllegalGenerationException || cause instanceof UnknownMemberIdException) {
                return true;
            }
        }
        return false;
    }

    public TopicTable<ChunkRoute> routing() {
        return views.routing().refresh();
    }

    public TopicTable<ShardDescriptor> shards() {
        return views.shards().refresh();
    }

    public TopicTable<MigrationState> migrations() {
        return views.migrations().refresh();
    }

    public TopicTable<RouterAck> acks() {
        return views.acks().refresh();
    }

    /** The namespaces' configs (their zone ranges, say). */
    public TopicTable<NamespaceConfig> configs() {
        return views.configs().refresh();
    }

    /**
     * Publishes a route and returns its offset in the routing topic: the routing version routers acknowledge past. A
     * route is derived from the one at its key (its version is that one's plus one) or starts a new key (a split's
     * upper half): it is published only if the routing still holds what it was derived from, checked and sent in one
     * transaction, so a split and a migration step that read the same route cannot both write over it.
     *
     * @throws RoutingChanged when the route at the key has changed since
     */
    public long publishRoute(ChunkRoute route) {
        String key = TopicCatalog.routingKey(route.getNamespace(), KeyHex.of(route.getMin()));
        return atomically(() -> {
            TopicTable.Entry<ChunkRoute> current = routing().entry(key);
            if (current != null && current.value().getVersion() != route.getVersion() - 1) {
                throw new RoutingChanged("the route at " + key + " is at version " + current.value().getVersion() + " (" + current.value().getState()
                    + " on " + current.value().getShardId() + "), not " + (route.getVersion() - 1) + " as when this change was derived from it");
            }
            return send(catalog.routing(), key, route);
        });
    }

    /** A route changed between the read a change was derived from and its publication: nothing was published. */
    public static final class RoutingChanged extends IllegalStateException {
        public RoutingChanged(String message) {
            super(message);
        }
    }

    public void publishMigration(MigrationState state) {
        get(publishMigrationAsync(state));
    }

    /** Sends a migration state without waiting for the broker: the returned future completes once it is written. */
    public java.util.concurrent.Future<RecordMetadata> publishMigrationAsync(MigrationState state) {
        return sendAsync(catalog.migrations(), state.getMigrationId(), state);
    }

    /**
     * Publishes a shard's descriptor, derived from the one the shards table holds (its version is that one's plus one)
     * or a new shard's first: checked and sent in one transaction, so the health monitor and a command that read the
     * same descriptor cannot both write over it.
     *
     * @throws DescriptorChanged when the descriptor has changed since
     */
    public void publishShard(ShardDescriptor shard) {
        atomically(() -> {
            ShardDescriptor current = shards().get(shard.getShardId());
            if (current != null && current.getVersion() != shard.getVersion() - 1) {
                throw new DescriptorChanged("shard " + shard.getShardId() + " is at descriptor version " + current.getVersion() + ", not "
                    + (shard.getVersion() - 1) + " as when this change was derived from it");
            }
            send(catalog.shards(), shard.getShardId(), shard);
        });
    }

    /** A shard's descriptor changed between the read a change was derived from and its publication: nothing was published. */
    public static final class DescriptorChanged extends IllegalStateException {
        public DescriptorChanged(String message) {
            super(message);
        }
    }

    public void publishConfig(NamespaceConfig config) {
        send(catalog.config(), config.getNamespace(), config);
    }

    public void event(ShardEventType type, String shardId, String namespace, String migrationId, String commandId, String issuer,
                      String reason, Map<String, Double> figures) {
        get(eventAsync(type, shardId, namespace, migrationId, commandId, issuer, reason, figures));
    }

    /** {@link #event} without waiting for the broker. */
    public java.util.concurrent.Future<RecordMetadata> eventAsync(ShardEventType type, String shardId, String namespace, String migrationId,
                                                                   String commandId, String issuer, String reason, Map<String, Double> figures) {
        ShardEvent event = ShardEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setType(type).setTimestamp(Instant.now())
            .setSource("worker:" + workerId).setShardId(shardId).setNamespace(namespace).setMigrationId(migrationId)
            .setCommandId(commandId).setIssuer(issuer).setReason(reason).setFigures(new HashMap<>(figures)).build();
        return sendAsync(catalog.events(), shardId == null ? "cluster" : shardId, event);
    }

    /** Sends a command the worker cannot carry out to the commands DLQ, with the reason and its origin. */
    public void deadLetter(ConsumerRecord<byte[], byte[]> record, Throwable reason, String field) {
        ProducerRecord<byte[], byte[]> letter = new ProducerRecord<>(catalog.commandsDlq().name(), null, record.key(), record.value(),
            DeadLetterHeaders.of(record.headers(), reason, record.topic(), record.partition(), record.offset(), field, "worker:" + workerId));
        get(send(letter));
    }

    /** Sends a CDC record the worker cannot read to the CDC DLQ, with its origin. */
    public void cdcDeadLetter(ConsumerRecord<byte[], byte[]> record, Throwable reason) {
        ProducerRecord<byte[], byte[]> letter = new ProducerRecord<>(catalog.cdcDlq().name(), null, record.key(), record.value(),
            DeadLetterHeaders.of(record.headers(), reason, record.topic(), record.partition(), record.offset(), "key", "worker:" + workerId));
        get(send(letter));
    }

    private <V> long send(Topic<String, V> topic, String key, V value) {
        return get(sendAsync(topic, key, value)).offset();
    }

    private <V> java.util.concurrent.Future<RecordMetadata> sendAsync(Topic<String, V> topic, String key, V value) {
        byte[] bytes = topic.valueSerde().serializer().serialize(topic.name(), value);
        return send(new ProducerRecord<>(topic.name(), key.getBytes(java.nio.charset.StandardCharsets.UTF_8), bytes));
    }

    /** Sends in the current transaction, or in one of its own: written once its transaction commits. */
    private java.util.concurrent.Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record) {
        return atomically(() -> {
            KafkaProducer<byte[], byte[]> current = producer;
            if (current == null) {
                throw new Ownership.Lost("this worker holds no term");
            }
            java.util.concurrent.Future<RecordMetadata> sent = current.send(record);
            sentInTransaction.add(sent);
            return sent;
        });
    }

    /**
     * After a commit, waits until the tables this plane reads hold what the transaction wrote to them: the commit
     * returns before the records are readable, and a step that reads the routing right after publishing a route must
     * find it (or it would take its own cutover for a range that moved on).
     */
    private void awaitReadable() {
        Map<String, Long> last = new HashMap<>();
        for (java.util.concurrent.Future<RecordMetadata> sent : sentInTransaction) {
            RecordMetadata written = get(sent);
            last.merge(written.topic(), written.offset(), Math::max);
        }
        sentInTransaction.clear();
        last.forEach(views::awaitWritten);
    }

    /** Waits for a send; a failed one is thrown as an {@link IllegalStateException} naming the cause. */
    public static <T> T get(java.util.concurrent.Future<T> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("publishing failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing", e);
        }
    }

    /** The registered shards, connected to on first use. */
    public ShardConnections shardConnections() {
        return shardConnections;
    }

    /**
     * The end offset of a shard's CDC topic for a namespace, creating the topic first when Debezium has not (no
     * change of that collection yet): a replay starts there.
     */
    public long cdcEnd(String shardId, String namespace) {
        return views.cdcEnd(shardId, namespace);
    }

    /** The end offsets of every CDC topic of a shard, by namespace: what its connector has captured so far. */
    public Map<String, Long> cdcEnds(String shardId) {
        return views.cdcEnds(shardId);
    }

    /** Sets a consumer group's committed offsets; the group must have no members (a connector not yet started). */
    public void commitGroupOffsets(String groupId, Map<TopicPartition, Long> offsets) {
        views.commitGroupOffsets(groupId, offsets);
    }

    /** Asks the worker holding a lane to run, abort or roll back a migration: a record on that lane's partition. */
    public void requestOfLane(int lane, LaneRequest request) {
        Topic<String, LaneRequest> lanes = catalog.migrationLanes();
        byte[] bytes = lanes.valueSerde().serializer().serialize(lanes.name(), request);
        get(send(new ProducerRecord<>(lanes.name(), lane, request.getMigrationId().getBytes(java.nio.charset.StandardCharsets.UTF_8), bytes)));
    }

    @Override
    public void close() {
        endTerm();
        if (ownsViews) {
            views.close();
        }
    }
}
