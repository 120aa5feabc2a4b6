package io.shardline.router.wire;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

import org.bson.Document;
import org.bson.RawBsonDocument;

import io.shardline.router.api.QueryCursor;

/**
 * The cursors the router holds for its wire clients, by id: a {@code getMore} continues the cursor's merge where the
 * last batch left it. A cursor belongs to the user that opened it and to its namespace; one idle longer than the
 * timeout is closed, as MongoDB closes idle cursors.
 */
public final class WireCursors implements AutoCloseable {

    /** An open cursor. {@code inUse} keeps two {@code getMore}s on one cursor from interleaving. */
    static final class Open {
        final long id;
        final String namespace;
        final String owner;
        final Source source;
        final AtomicBoolean inUse = new AtomicBoolean();
        volatile long lastUsedNanos = System.nanoTime();

        Open(long id, String namespace, String owner, Source source) {
            this.id = id;
            this.namespace = namespace;
            this.owner = owner;
            this.source = source;
        }
    }

    /** A cursor's documents, encoded as they are taken; one that did not fit in a batch waits for the next. */
    static final class Source {
        private final QueryCursor cursor;
        private RawBsonDocument held;

        Source(QueryCursor cursor) {
            this.cursor = cursor;
        }

        boolean hasNext() {
            return held != null || cursor.hasNext();
        }

        RawBsonDocument next() {
            if (held != null) {
                RawBsonDocument document = held;
                held = null;
                return document;
            }
            return WireCodec.raw(cursor.next());
        }

        void putBack(RawBsonDocument document) {
            held = document;
        }

        QueryCursor cursor() {
            return cursor;
        }
    }

    /** A batch and whether the cursor is done after it. */
    record Batch(List<RawBsonDocument> documents, boolean exhausted) {
    }

    /** Room for a batch's documents in one reply: MongoDB's document limit less 16 KiB for the reply's own fields. */
    static final int BATCH_BYTES = WireCodec.MAX_DOCUMENT_BYTES - 16 * 1024;

    private final Map<Long, Open> open = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final long idleTimeoutNanos;

    public WireCursors(Duration idleTimeout) {
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("cursor idle timeout must be positive, was " + idleTimeout);
        }
        this.idleTimeoutNanos = idleTimeout.toNanos();
    }

    /** Registers a cursor that has more to give; returns its id (never 0, which means "no cursor"). */
    long register(String namespace, String owner, Source source) {
        while (true) {
            long id = random.nextLong() & Long.MAX_VALUE;
            if (id != 0 && open.putIfAbsent(id, new Open(id, namespace, owner, source)) == null) {
                return id;
            }
        }
    }

    /**
     * Takes the cursor for a {@code getMore}; the caller must {@link #release} it.
     *
     * @throws WireCommandException when there is no such cursor, it belongs to another namespace or user, or another
     *                              {@code getMore} holds it
     */
    Open acquire(long id, String namespace, String owner) {
        Open cursor = open.get(id);
        if (cursor == null) {
            throw new WireCommandException(WireError.CURSOR_NOT_FOUND, "cursor id " + id + " not found");
        }
        if (!cursor.namespace.equals(namespace)) {
            throw new WireCommandException(WireError.UNAUTHORIZED, "Requested getMore on namespace '" + namespace
                + "', but cursor belongs to a different namespace " + cursor.namespace);
        }
        if (!java.util.Objects.equals(cursor.owner, owner)) {
            throw new WireCommandException(WireError.UNAUTHORIZED, "cursor id " + id + " was not created by the authenticated user");
        }
        if (!cursor.inUse.compareAndSet(false, true)) {
            throw new WireCommandException(WireError.CURSOR_IN_USE, "cursor id " + id + " is already in use");
        }
        return cursor;
    }

    /** Gives a cursor back after a {@code getMore}; closes and forgets it if it is done. */
    void release(Open cursor, boolean exhausted) {
        cursor.lastUsedNanos = System.nanoTime();
        if (exhausted) {
            forget(cursor.id);
        }
        cursor.inUse.set(false);
    }

    /** Closes cursors; returns the ids it closed. */
    List<Long> kill(List<Long> ids, String namespace, String owner) {
        List<Long> killed = new ArrayList<>();
        for (Long id : ids) {
            Open cursor = open.get(id);
            if (cursor != null && cursor.namespace.equals(namespace) && java.util.Objects.equals(cursor.owner, owner)) {
                forget(id);
                killed.add(id);
            }
        }
        return killed;
    }

    /** Closes the cursors idle for longer than the timeout; returns how many. */
    public int closeIdle() {
        long now = System.nanoTime();
        int closed = 0;
        for (Open cursor : open.values()) {
            if (!cursor.inUse.get() && now - cursor.lastUsedNanos > idleTimeoutNanos) {
                forget(cursor.id);
                closed++;
            }
        }
        return closed;
    }

    public int size() {
        return open.size();
    }

    private void forget(long id) {
        Open cursor = open.remove(id);
        if (cursor != null) {
            cursor.source.cursor().close();
        }
    }

    /**
     * The next batch of a cursor: at most {@code batchSize} documents (0: no count limit) and at most what fits in
     * one reply document (MongoDB's 16 MiB, less room for the reply's own fields; always at least one document).
     */
    static Batch next(Source source, int batchSize) {
        List<RawBsonDocument> documents = new ArrayList<>();
        long bytes = 0;
        while ((batchSize == 0 || documents.size() < batchSize) && source.hasNext()) {
            RawBsonDocument document = source.next();
            int size = document.getByteBuffer().remaining();
            if (!documents.isEmpty() && bytes + size > BATCH_BYTES) {
                source.putBack(document);
                break;
            }
            documents.add(document);
            bytes += size;
        }
        return new Batch(documents, !source.hasNext());
    }

    /** A cursor's reply: {@code {cursor: {firstBatch|nextBatch, id, ns}, ok: 1}}. */
    static Document reply(String batchName, List<RawBsonDocument> documents, long id, String namespace) {
        return new Document("cursor", new Document(batchName, documents).append("id", id).append("ns", namespace)).append("ok", 1.0);
    }

    @Override
    public void close() {
        List.copyOf(open.keySet()).forEach(this::forget);
    }
}
