package io.shardline.router.wire;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

import org.bson.Document;

/**
 * Retryable writes: a write sent in a session ({@code lsid}) with a transaction number ({@code txnNumber}) runs at
 * most once. Drivers send the same command again, with the same numbers, when they did not get its reply (a network
 * error, a failover); a retry of a write that completed gets the reply the write had, without running it again, and a
 * retry of a write still running waits for it. A write that failed as a whole (nothing of it ran: a lapsed lease, a
 * malformed command) is not remembered, so its retry runs. The router keeps a session's latest write until the
 * session ends ({@code endSessions}) or stays idle for MongoDB's session timeout; a router that restarts forgets them.
 */
final class RetryableWrites {

    /** MongoDB's code for a transaction number older than the session's latest. */
    static final int TRANSACTION_TOO_OLD = 225;

    /** A session's latest retryable write. */
    private static final class Session {
        private long txnNumber = Long.MIN_VALUE;
        private CompletableFuture<Document> outcome;
        private volatile long lastUsedNanos = System.nanoTime();
    }

    private final Map<Document, Session> sessions = new ConcurrentHashMap<>();
    private final long idleNanos;

    RetryableWrites(Duration sessionTimeout) {
        this.idleNanos = sessionTimeout.toNanos();
    }

    /**
     * Runs {@code write} unless this session already ran (or is running) the write of this transaction number, whose
     * reply it then returns.
     *
     * @throws WireCommandException {@code TransactionTooOld} when the session has since run a newer write
     */
    Document run(Document lsid, long txnNumber, Supplier<Document> write) {
        Session session = sessions.computeIfAbsent(lsid, key -> new Session());
        CompletableFuture<Document> outcome;
        boolean first;
        synchronized (session) {
            session.lastUsedNanos = System.nanoTime();
            if (txnNumber < session.txnNumber) {
                throw new WireCommandException(TRANSACTION_TOO_OLD, "txnNumber " + txnNumber
                    + " is older than this session's latest write, " + session.txnNumber);
            }
            first = txnNumber > session.txnNumber || session.outcome == null;
            if (first) {
                session.txnNumber = txnNumber;
                session.outcome = new CompletableFuture<>();
            }
            outcome = session.outcome;
        }
        if (first) {
            try {
                Document reply = write.get();
                outcome.complete(reply);
                return reply;
            } catch (RuntimeException e) {
                synchronized (session) {
                    if (session.outcome == outcome) {
                        session.outcome = null;
                    }
                }
                outcome.completeExceptionally(e);
                throw e;
            }
        }
        try {
            return outcome.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while a retried write waited for its first run", e);
        }
    }

    /** Forgets the sessions a client ended. */
    void end(List<Document> lsids) {
        lsids.forEach(sessions::remove);
    }

    /** Forgets sessions idle for longer than the session timeout; returns how many. */
    int expire() {
        long now = System.nanoTime();
        int expired = 0;
        for (Map.Entry<Document, Session> entry : sessions.entrySet()) {
            if (now - entry.getValue().lastUsedNanos > idleNanos && sessions.remove(entry.getKey(), entry.getValue())) {
                expired++;
            }
        }
        return expired;
    }

    int size() {
        return sessions.size();
    }
}
