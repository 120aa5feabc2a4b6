package io.shardline.shard.internal;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;

import de.bwaldvogel.mongo.backend.Cursor;
import de.bwaldvogel.mongo.backend.aggregation.Aggregation;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.Oplog;

/**
 * The shard's oplog: a bounded ring of {@link OplogEntry} in cluster-time order.
 *
 * <p>Writers append under the namespace lock of the write (see {@link ShardBackend}), so the oplog order is
 * the order in which writes were applied. Readers address entries by sequence number; an entry older than
 * the retention is gone, and {@link #lastTrimmed()} tells up to where.
 */
public final class ChangeStreamOplog implements Oplog {

    /** The cluster time of the last entry the current thread appended since {@link #startCommand}. */
    private static final ThreadLocal<BsonTimestamp> APPENDED = new ThreadLocal<>();

    private final OplogEntry[] ring;
    /** The cluster time of each namespace's latest entry, kept past the ring's retention. */
    private final java.util.Map<String, BsonTimestamp> latestByNamespace = new java.util.concurrent.ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition appended = lock.newCondition();
    private final Clock clock;
    private final BiFunction<String, Object, Document> postImageLookup;
    private long firstSequence;
    private long nextSequence;
    private BsonTimestamp lastTrimmed;
    private long lastSeconds;
    private int lastIncrement;

    /**
     * @param postImageLookup finds a document by (namespace, _id) through the collection's _id index
     */
    ChangeStreamOplog(int retention, Clock clock, BiFunction<String, Object, Document> postImageLookup) {
        this.ring = new OplogEntry[retention];
        this.clock = clock;
        this.postImageLookup = postImageLookup;
    }

    @Override
    public void handleInsert(String namespace, List<Document> documents) {
        Namespace ns = Namespace.parse(namespace);
        if (ns.internal()) {
            return;
        }
        for (Document document : documents) {
            append(OpType.INSERT, ns, document.get("_id"), document.cloneDeeply(), null);
        }
    }

    @Override
    public void handleUpdate(String namespace, Document selector, Document update, List<Object> modifiedIds) {
        Namespace ns = Namespace.parse(namespace);
        if (ns.internal()) {
            return;
        }
        boolean operators = UpdateDescriptions.isOperatorUpdate(update);
        for (Object id : modifiedIds) {
            Document postImage = postImageLookup.apply(namespace, id);
            if (postImage == null) {
                continue; // cannot happen under the namespace lock; a vanished document has nothing to report
            }
            if (operators) {
                append(OpType.UPDATE, ns, id, postImage, UpdateDescriptions.describe(update, postImage));
            } else {
                append(OpType.REPLACE, ns, id, postImage, null);
            }
        }
    }

    @Override
    public void handleDelete(String namespace, Document query, List<Object> deletedIds) {
        Namespace ns = Namespace.parse(namespace);
        if (ns.internal()) {
            return;
        }
        for (Object id : deletedIds) {
            append(OpType.DELETE, ns, id, null, null);
        }
    }

    @Override
    public void handleDropCollection(String namespace) {
        Namespace ns = Namespace.parse(namespace);
        if (!ns.internal()) {
            append(OpType.DROP, ns, null, null, null);
        }
    }

    /** Change streams are opened by {@link ChangeStreams}, which reads this oplog by sequence. */
    @Override
    public Cursor createCursor(Document changeStreamDocument, String namespace, Aggregation aggregation) {
        throw new IllegalStateException("change streams of an embedded shard are served by ChangeStreams");
    }

    private void append(OpType op, Namespace ns, Object id, Document fullDocument, Document updateDescription) {
        lock.lock();
        try {
            Instant now = clock.instant();
            BsonTimestamp clusterTime = nextClusterTime(now);
            if (lastSeconds > now.getEpochSecond()) {
                // The clock went back: the wall time keeps to the cluster time's second, as readers that know only the
                // wall time's second (Debezium's source.ts_ms) must still find the entry's cluster time from it.
                now = Instant.ofEpochSecond(lastSeconds);
            }
            if (nextSequence - firstSequence == ring.length) {
                lastTrimmed = ring[(int) (firstSequence % ring.length)].clusterTime();
                firstSequence++;
            }
            APPENDED.set(clusterTime);
            latestByNamespace.put(ns.database() + "." + ns.collection(), clusterTime);
            ring[(int) (nextSequence % ring.length)] = new OplogEntry(nextSequence, clusterTime, now, op,
                ns.database(), ns.collection(), id, fullDocument, updateDescription);
            nextSequence++;
            appended.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private BsonTimestamp nextClusterTime(Instant now) {
        long seconds = now.getEpochSecond();
        if (seconds > lastSeconds) {
            lastSeconds = seconds;
            lastIncrement = 1;
        } else {
            lastIncrement++;
        }
        return new BsonTimestamp((lastSeconds << 32) | (lastIncrement & 0xFFFFFFFFL));
    }

    /** Starts a command on the current thread: {@link #appendedByCommand} answers for what it writes from now on. */
    static void startCommand() {
        APPENDED.remove();
    }

    /**
     * The cluster time of the last entry the current thread's command appended ({@link #startCommand}), {@code null}
     * when it wrote nothing: a write reply's {@code operationTime}, as a replica set member answers with its write's
     * optime, so a client can tell when that very write has reached a copy of the shard.
     */
    static BsonTimestamp appendedByCommand() {
        return APPENDED.get();
    }

    /** The cluster time of the namespace's latest entry, {@code null} when nothing was written to it yet. */
    BsonTimestamp lastClusterTime(String namespace) {
        return latestByNamespace.get(namespace);
    }

    /** The cluster time of the latest write, or the current time when nothing was written yet. */
    public BsonTimestamp lastClusterTime() {
        lock.lock();
        try {
            if (nextSequence > 0) {
                return ring[(int) ((nextSequence - 1) % ring.length)].clusterTime();
            }
            return new BsonTimestamp(clock.instant().getEpochSecond() << 32);
        } finally {
            lock.unlock();
        }
    }

    /** Cluster time of the newest entry that fell out of retention, {@code null} while none did. */
    BsonTimestamp lastTrimmed() {
        lock.lock();
        try {
            return lastTrimmed;
        } finally {
            lock.unlock();
        }
    }

    public long size() {
        lock.lock();
        try {
            return nextSequence - firstSequence;
        } finally {
            lock.unlock();
        }
    }

    long nextSequence() {
        lock.lock();
        try {
            return nextSequence;
        } finally {
            lock.unlock();
        }
    }

    /** Sequence of the first retained entry whose cluster time is after {@code clusterTime}. */
    long sequenceAfter(BsonTimestamp clusterTime) {
        lock.lock();
        try {
            long low = firstSequence;
            long high = nextSequence;
            while (low < high) {
                long mid = (low + high) >>> 1;
                if (ring[(int) (mid % ring.length)].clusterTime().compareTo(clusterTime) > 0) {
                    high = mid;
                } else {
                    low = mid + 1;
                }
            }
            return low;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Up to {@code max} entries from {@code fromSequence} on, waiting up to {@code awaitNanos} for the first one.
     *
     * @throws HistoryLostException when {@code fromSequence} fell out of retention while the cursor was idle
     */
    List<OplogEntry> read(long fromSequence, int max, long awaitNanos) throws InterruptedException, HistoryLostException {
        lock.lock();
        try {
            long remaining = awaitNanos;
            while (fromSequence >= nextSequence && remaining > 0) {
                remaining = appended.awaitNanos(remaining);
            }
            if (fromSequence < firstSequence) {
                throw new HistoryLostException();
            }
            long end = Math.min(nextSequence, fromSequence + max);
            List<OplogEntry> entries = new ArrayList<>((int) (end - fromSequence));
            for (long sequence = fromSequence; sequence < end; sequence++) {
                entries.add(ring[(int) (sequence % ring.length)]);
            }
            return entries;
        } finally {
            lock.unlock();
        }
    }

    /** Wakes every waiting reader, used when the shard stops. */
    void wakeReaders() {
        lock.lock();
        try {
            appended.signalAll();
        } finally {
            lock.unlock();
        }
    }

    static long toNanos(long millis) {
        return TimeUnit.MILLISECONDS.toNanos(millis);
    }

    /** The position a reader wanted is older than what the oplog retains. */
    static final class HistoryLostException extends Exception {
        private static final long serialVersionUID = 1L;
    }

    record Namespace(String database, String collection) {
        static Namespace parse(String namespace) {
            int dot = namespace.indexOf('.');
            return new Namespace(namespace.substring(0, dot), namespace.substring(dot + 1));
        }

        boolean internal() {
            return database.equals("admin") || database.equals("local") || database.equals("config")
                || collection.startsWith("system.");
        }
    }
}
