package io.shardline.router.internal;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.shardline.router.api.RouterException;

/**
 * The commits this router answered whose intents it is still resolving: numbered in the order answered, by namespace
 * and by transaction, so that a request on this router waits for the commits answered before it began
 * ({@link #awaitResolved}) and a statement that meets one of their intents waits for that resolution
 * ({@link #awaitResolution}) rather than resolving the same intents beside it.
 */
final class AnsweredCommits {

    /** One answered commit being resolved; {@link #done} ends it. */
    record Ticket(long number, String txnId, List<String> namespaces, CompletableFuture<Void> resolved) {
    }

    private final AtomicLong answered = new AtomicLong();
    private final Map<String, ConcurrentSkipListSet<Long>> unresolved = new ConcurrentHashMap<>();
    private final Map<String, CompletableFuture<Void>> resolving = new ConcurrentHashMap<>();
    private final Object signal = new Object();

    /** Notes a commit answered and not resolved yet. */
    Ticket answered(String txnId, List<String> namespaces) {
        long number = answered.incrementAndGet();
        namespaces.forEach(namespace -> unresolved.computeIfAbsent(namespace, n -> new ConcurrentSkipListSet<>()).add(number));
        Ticket ticket = new Ticket(number, txnId, namespaces, new CompletableFuture<>());
        resolving.put(txnId, ticket.resolved());
        return ticket;
    }

    /** The commit's resolution ended (its intents resolved, or left to recovery). */
    void done(Ticket ticket) {
        resolving.remove(ticket.txnId());
        ticket.resolved().complete(null);
        ticket.namespaces().forEach(namespace -> unresolved.get(namespace).remove(ticket.number()));
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /** Waits until every commit answered in {@code namespace} before this call is resolved, at most {@code timeoutMillis}. */
    void awaitResolved(String namespace, long timeoutMillis) {
        ConcurrentSkipListSet<Long> pending = unresolved.get(namespace);
        if (pending == null || pending.isEmpty()) {
            return;
        }
        long upTo = answered.get();
        long deadline = System.currentTimeMillis() + timeoutMillis;
        synchronized (signal) {
            while (true) {
                Long oldest = pending.ceiling(0L); // null once empty: tickets are numbered from 1
                long left = deadline - System.currentTimeMillis();
                if (oldest == null || oldest > upTo || left <= 0) {
                    return;
                }
                try {
                    signal.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RouterException(RouterException.Kind.RETRYABLE, "interrupted waiting for a commit's resolution", e);
                }
            }
        }
    }

    /** Waits, at most until {@code deadline}, for the resolution of that answered commit; whether there was one and it ended. */
    boolean awaitResolution(String txnId, long deadline) {
        CompletableFuture<Void> local = resolving.get(txnId);
        if (local == null) {
            return false;
        }
        try {
            local.get(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RouterException(RouterException.Kind.RETRYABLE, "interrupted waiting for a commit's resolution", e);
        }
    }
}
