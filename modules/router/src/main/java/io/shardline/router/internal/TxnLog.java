package io.shardline.router.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Serdes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.router.api.RouterException;
import io.shardline.schemas.DeadLetterProducer;
import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.Topic;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.TxnRecord;
import io.shardline.schemas.avro.TxnState;

/**
 * The coordinator log of cross-shard transactions (the compacted txn topic, one partition), as this router writes and
 * reads it. Every router follows the whole partition, so it knows each open transaction's newest record and its
 * decision: the first COMMITTED or ABORTED record of the transaction in the partition. Writing a decision is therefore a
 * compare-and-set decided by the partition's order: {@link #decide} appends one and reads on until it has passed it,
 * then answers with whichever decision came first (its own, or one another router wrote before it). A tombstone ends
 * a transaction once all its intents are resolved; only then does the log forget it. The producer is idempotent with
 * {@code acks=all}, so a record is written once and in order. Once a transaction is resolved, its decision record also
 * goes to the decisions topic, which keeps it as long as the CDC topics: a restore reads there whether a transaction
 * holding a document at the restore's moment had committed by then.
 */
public final class TxnLog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TxnLog.class);

    /**
     * What the log says of one transaction it has not seen end.
     *
     * @param decisionRecord   the decision's record, {@code null} while there is none
     * @param resolvedAtMillis when a record said every intent is resolved, 0 while none has
     */
    public record Entry(String txnId, TxnRecord latest, TxnState decision, long decidedAtMillis, TxnRecord decisionRecord,
                        long resolvedAtMillis) {
        boolean decided() {
            return decision != null;
        }

        boolean resolved() {
            return resolvedAtMillis > 0;
        }
    }

    private final Topic<String, TxnRecord> topic;
    private final Topic<String, TxnRecord> decisions;
    private final Topic<String, ShardEvent> events;
    private final TopicPartition partition;
    private final KafkaProducer<String, byte[]> producer;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Admin admin;
    private final DeadLetterProducer deadLetters;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Object progress = new Object();
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private final Thread thread;
    private final long writeTimeoutMillis;
    private volatile long position;
    /** Why the reader stopped, once it did: nothing can be decided or learnt from the log after that. */
    private volatile String failure;
    private volatile boolean running = true;

    /**
     * @param decisions where the decision of each resolved transaction is kept after the log forgets it
     * @param events    where the router's transaction events go (a recovered or an aborted transaction)
     */
    public TxnLog(String bootstrapServers, Topic<String, TxnRecord> topic, Topic<String, TxnRecord> decisions, Topic<String, ShardEvent> events,
                  DeadLetterProducer deadLetters, Duration writeTimeout) {
        this.topic = topic;
        this.decisions = decisions;
        this.events = events;
        this.partition = new TopicPartition(topic.name(), 0);
        this.deadLetters = deadLetters;
        this.writeTimeoutMillis = writeTimeout.toMillis();
        KafkaClients clients = KafkaClients.fromEnvironment(bootstrapServers);
        int timeout = (int) Math.max(writeTimeoutMillis, 1_000);
        this.producer = new KafkaProducer<>(clients.producer(Map.of(ProducerConfig.ACKS_CONFIG, "all",
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.LINGER_MS_CONFIG, 0,
            ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeout, ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeout + 1_000)),
            Serdes.String().serializer(), (name, value) -> value);
        this.admin = clients.admin();
        this.consumer = clients.bytesReader(null, Map.of(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5, ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 10_000));
        this.thread = new Thread(this::run, "router-txn-log");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Waits until the log is read up to where it ended when this router started. */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The log's view of a transaction, or {@code null} when it has none (never written, or ended). */
    public Entry entry(String txnId) {
        if (failure != null) {
            throw new RouterException(RouterException.Kind.RETRYABLE, "the coordinator log's reader stopped: " + failure);
        }
        return entries.get(txnId);
    }

    /** Every transaction the log has not seen end. */
    public List<Entry> open() {
        return new ArrayList<>(entries.values());
    }

    /**
     * Appends an ACTIVE record (a transaction's start, or a namespace it now touches) without waiting: {@link #written}
     * waits for it. Every later record of the router goes after it in the partition (one idempotent producer).
     */
    public java.util.concurrent.Future<RecordMetadata> active(TxnRecord record) {
        return producer.send(new ProducerRecord<>(topic.name(), record.getTxnId(), topic.valueSerde().serializer().serialize(topic.name(), record)));
    }

    /** Waits until a record {@link #active} appended is written, at most the write timeout. */
    public void written(String txnId, java.util.concurrent.Future<RecordMetadata> pending) {
        awaitWritten(txnId, TxnState.ACTIVE, pending);
    }

    /**
     * A transaction's decision as {@link #decide} learned it.
     *
     * @param ours whether the record written was the decision (no other router decided first)
     */
    public record Decision(TxnState state, boolean ours) {
    }

    /**
     * Appends {@code record} (COMMITTED or ABORTED) and answers with the transaction's decision: the first decision in
     * the partition, which is {@code record}'s state unless another router decided first; {@code null} when the
     * transaction ended (its tombstone followed the record), so that it was decided and resolved long before.
     * <p>
     * It answers as soon as this router's reader has read a decision of the transaction, without waiting for the
     * producer's acknowledgement as well: a consumer reads only what the partition's in-sync replicas hold, so a
     * decision read is a decision written ({@code acks=all}).
     */
    public Decision decide(TxnRecord record) {
        String txnId = record.getTxnId();
        java.util.concurrent.Future<RecordMetadata> sent = producer.send(new ProducerRecord<>(topic.name(), txnId,
            topic.valueSerde().serializer().serialize(topic.name(), record)), (metadata, e) -> {
                synchronized (progress) {
                    progress.notifyAll();
                }
            });
        long deadline = System.currentTimeMillis() + writeTimeoutMillis;
        Entry entry;
        synchronized (progress) {
            while (true) {
                entry = entries.get(txnId);
                if (entry != null && entry.decided()) {
                    break;
                }
                if (sent.isDone() && position > awaitWritten(txnId, record.getState(), sent)) {
                    break; // read past ours, and no decision: the transaction ended long ago
                }
                if (failure != null) {
                    throw new RouterException(RouterException.Kind.RETRYABLE, "the coordinator log's reader stopped: " + failure);
                }
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    throw new RouterException(RouterException.Kind.RETRYABLE, "transaction " + txnId + ": its " + record.getState()
                        + " record was not read back from the coordinator log within " + writeTimeoutMillis + " ms");
                }
                try {
                    progress.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RouterException(RouterException.Kind.RETRYABLE, "interrupted reading the coordinator log", e);
                }
            }
        }
        if (entry == null) {
            return null;
        }
        boolean ours = same(record, entry.decisionRecord());
        if (!ours) {
            // Ours comes after the decision: compaction keeps a key's last record, which must say the decision again.
            send(TxnRecord.newBuilder(entry.decisionRecord()).setNamespaces(entry.latest().getNamespaces()).build(), "the decision again");
        }
        return new Decision(entry.decision(), ours);
    }

    /** Whether the decision read is the record written: same state, writer, time (to the millisecond) and cause. */
    private static boolean same(TxnRecord written, TxnRecord read) {
        return read != null && written.getState() == read.getState() && written.getRouterId().equals(read.getRouterId())
            && written.getTimestamp().toEpochMilli() == read.getTimestamp().toEpochMilli()
            && java.util.Objects.equals(written.getCause(), read.getCause());
    }

    /** Appends an ACTIVE heartbeat without waiting for it: a transaction's heartbeats never hold up another's. */
    public void heartbeat(TxnRecord record) {
        send(record, "a heartbeat");
    }

    /**
     * Says that every intent of a decided transaction is resolved: {@code decision} again, with {@code resolved} set; and
     * keeps the decision record as this router read it (its state, and when it was taken) on the decisions topic.
     */
    public void resolved(TxnRecord decision) {
        send(TxnRecord.newBuilder(decision).setResolved(true).setTimestamp(java.time.Instant.now()).build(), "that it is resolved");
        Entry entry = entries.get(decision.getTxnId());
        if (entry != null && entry.decisionRecord() != null) {
            send(decisions, entry.decisionRecord(), "its decision (a restore to a moment it held a document keeps that intent)");
        }
    }

    private void send(TxnRecord record, String what) {
        send(topic, record, what + " (a router's recovery writes what is missing later)");
    }

    private void send(Topic<String, TxnRecord> to, TxnRecord record, String what) {
        try {
            producer.send(new ProducerRecord<>(to.name(), record.getTxnId(), to.valueSerde().serializer().serialize(to.name(), record)),
                (metadata, e) -> {
                    if (e != null) {
                        LOG.warn("could not write {} of transaction {} to {}: {}", what, record.getTxnId(), to.name(), e.toString());
                    }
                });
        } catch (RuntimeException e) {
            LOG.warn("could not write {} of transaction {} to {}: {}", what, record.getTxnId(), to.name(), e.toString());
        }
    }

    /**
     * Waits until this router has read every record written to the log before this call: a decision another router
     * wrote before changing a document this router then read is known once it returns.
     */
    public void awaitCurrent() {
        long end;
        try {
            end = admin.listOffsets(Map.of(partition, OffsetSpec.latest())).partitionResult(partition)
                .get(writeTimeoutMillis, TimeUnit.MILLISECONDS).offset();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RouterException(RouterException.Kind.RETRYABLE, "interrupted reading the end of the coordinator log", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new RouterException(RouterException.Kind.RETRYABLE, "the end of the coordinator log " + topic.name() + " could not be read: " + e, e);
        }
        if (end > 0) {
            awaitRead(end - 1);
        }
    }

    /** Publishes an event of the transactions this router recovered or aborted for another coordinator. */
    public void event(ShardEvent event) {
        producer.send(new ProducerRecord<>(events.name(), event.getEventId(), events.valueSerde().serializer().serialize(events.name(), event)),
            (metadata, e) -> {
                if (e != null) {
                    LOG.warn("could not publish event {} {}: {}", event.getType(), event.getReason(), e.toString());
                }
            });
    }

    /** Ends a resolved transaction: a tombstone, after which the log forgets it. */
    public void end(String txnId) {
        producer.send(new ProducerRecord<>(topic.name(), txnId, null), (metadata, e) -> {
            if (e != null) {
                LOG.warn("could not end transaction {} on the log (a router's recovery ends it later): {}", txnId, e.toString());
            }
        });
    }

    private long awaitWritten(String txnId, TxnState state, java.util.concurrent.Future<RecordMetadata> pending) {
        try {
            return pending.get(writeTimeoutMillis, TimeUnit.MILLISECONDS).offset();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RouterException(RouterException.Kind.RETRYABLE, "transaction " + txnId + ": interrupted writing to the coordinator log", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new RouterException(RouterException.Kind.RETRYABLE, "transaction " + txnId + ": the coordinator log " + topic.name()
                + " did not take a " + state + " record within " + writeTimeoutMillis + " ms: " + e, e);
        }
    }

    private void awaitRead(long offset) {
        long deadline = System.currentTimeMillis() + writeTimeoutMillis;
        synchronized (progress) {
            while (position <= offset) {
                if (failure != null) {
                    throw new RouterException(RouterException.Kind.RETRYABLE, "the coordinator log's reader stopped: " + failure);
                }
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    throw new RouterException(RouterException.Kind.RETRYABLE, "the coordinator log was not read up to offset " + offset
                        + " within " + writeTimeoutMillis + " ms");
                }
                try {
                    progress.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RouterException(RouterException.Kind.RETRYABLE, "interrupted reading the coordinator log", e);
                }
            }
        }
    }

    private void run() {
        try {
            for (String needed : List.of(partition.topic(), decisions.name())) {
                if (consumer.partitionsFor(needed, Duration.ofSeconds(30)).isEmpty()) {
                    throw new IllegalStateException("the topic " + needed + " does not exist (shardline init creates it)");
                }
            }
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            long end = consumer.endOffsets(List.of(partition)).get(partition);
            while (running) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(100))) {
                    apply(record);
                }
                long read = consumer.position(partition);
                synchronized (progress) {
                    position = read;
                    progress.notifyAll();
                }
                if (read >= end) {
                    caughtUp.countDown();
                }
            }
        } catch (WakeupException stopping) {
            LOG.debug("transaction log reader stopping");
        } catch (RuntimeException e) {
            LOG.error("the transaction log reader stopped: {}", e.toString(), e);
            synchronized (progress) {
                failure = e.toString();
                progress.notifyAll();
            }
        } finally {
            consumer.close();
        }
    }

    private void apply(ConsumerRecord<byte[], byte[]> record) {
        String txnId = record.key() == null ? null : new String(record.key(), java.nio.charset.StandardCharsets.UTF_8);
        if (txnId == null) {
            deadLetters.send(record, new IllegalArgumentException("a transaction record needs its transaction id as key"), "key");
            return;
        }
        if (record.value() == null) {
            entries.remove(txnId);
            return;
        }
        TxnRecord value;
        try {
            value = topic.valueSerde().deserializer().deserialize(record.topic(), record.value());
        } catch (RuntimeException e) {
            deadLetters.send(record, e, "value");
            return;
        }
        entries.compute(txnId, (id, known) -> {
            TxnState decision = known == null ? null : known.decision();
            long decidedAt = known == null ? 0 : known.decidedAtMillis();
            TxnRecord decisionRecord = known == null ? null : known.decisionRecord();
            long resolvedAt = known == null ? 0 : known.resolvedAtMillis();
            if (decision == null && value.getState() != TxnState.ACTIVE) {
                decision = value.getState();
                decidedAt = value.getTimestamp().toEpochMilli();
                decisionRecord = value;
            }
            if (value.getResolved() && resolvedAt == 0) {
                resolvedAt = value.getTimestamp().toEpochMilli();
            }
            // Every namespace any record named: a record written by another router may name fewer.
            java.util.LinkedHashSet<String> namespaces = new java.util.LinkedHashSet<>(known == null ? List.of() : known.latest().getNamespaces());
            namespaces.addAll(value.getNamespaces());
            TxnRecord latest = TxnRecord.newBuilder(value).setNamespaces(new ArrayList<>(namespaces)).build();
            return new Entry(id, latest, decision, decidedAt, decisionRecord, resolvedAt);
        });
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(TimeUnit.SECONDS.toMillis(10));
        producer.close(Duration.ofSeconds(5));
        admin.close(Duration.ofSeconds(5));
    }
}
