package io.shardline.router.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.core.txn.IntentLayout;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.Scope;
import io.shardline.router.api.Transaction;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.TxnRecord;
import io.shardline.schemas.avro.TxnState;

/**
 * This router's side of cross-shard transactions: it coordinates the transactions it opens, and with every other
 * router finishes the ones whose coordinator stopped.
 * <p>
 * Commit: every intent is already on its shard (each statement writes them), so the decision is the commit point: a
 * COMMITTED record on the coordinator log, written once it is the first decision of the transaction there
 * ({@link TxnLog#decide}). Then each intent is resolved on the document's owner, and a tombstone ends the transaction.
 * Abort is the same with ABORTED. While a transaction is open its coordinator writes an ACTIVE heartbeat every third
 * of the transaction timeout; a transaction without a decision whose newest record is older than the timeout is
 * aborted by whichever router sees it first, and a decided transaction not ended after the timeout is finished by any
 * router: each finds the transaction's intents in the namespaces its records name.
 */
public final class Transactions implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Transactions.class);
    private static final int MAX_ATTEMPTS = 100;
    /** The committed transactions resolved in the background at once. */
    static final int BACKGROUND_RESOLUTIONS = 32;

    /**
     * How long a statement waits for a document an older transaction holds, how long a transaction may go unheard from
     * before any router aborts it, and how long it may stay open (the router's transaction settings).
     */
    public record Limits(java.time.Duration lockTimeout, java.time.Duration timeout, java.time.Duration lifetime) {
    }

    /** What a transaction needs of the router it runs in. */
    public interface Access {
        /** The namespace's view for a caller, with the caller's durability. */
        NamespaceView view(String namespace, Scope scope);

        /** {@code filter} restricted to the caller's tenant, checked as any request's filter is. */
        Document scoped(Scope scope, Document filter);

        /** A document to insert for the caller: tenant set, {@code _id} given, checked as any inserted document is. */
        Document scopedDocument(Scope scope, String field, Document document);

        /** An update checked and scoped as any request's update is (it never changes a tenant or shard key). */
        Document checkedUpdate(Scope scope, String namespace, Document filter, Document update);

        /**
         * Updates the first document matching {@code scopedFilter} with {@code update} on its owner and answers it as it
         * became, as a client sees it, or {@code null} when none matched; the filter and update go as they are.
         */
        Document modifyOne(Scope scope, String namespace, Document scopedFilter, Document update);

        /** The rules an update of the namespace follows (a replacement keeps the stored tenant and shard key). */
        UpdateRules rules(String namespace);

        /** Every shard the routing names. */
        java.util.Collection<String> shardIds();

        /** Drops what the router cached of the namespace's reads. */
        void changed(String namespace);
    }

    private final Access access;
    private final WritePath writes;
    private final ReadPath reads;
    private final ShardClients clients;
    private final TxnLog log;
    private final Limits settings;
    private final String routerId;
    private final Map<String, OpenTransaction> open = new ConcurrentHashMap<>();
    private final ScheduledExecutorService heartbeat;
    private final ScheduledExecutorService recovery;
    /** Aborts transactions at their lifetime, apart from the resolvers its aborts wait for. */
    private final ExecutorService reaper;
    private final ExecutorService resolvers;
    /**
     * Resolves committed transactions after their commit has answered, apart from the resolvers it waits for: at most
     * {@link #BACKGROUND_RESOLUTIONS} at once; a commit beyond them (shards slow to take resolutions), or one while the
     * router closes, resolves before it answers.
     */
    private final ExecutorService committers;
    /** The commits this router answered and is still resolving. */
    private final AnsweredCommits answered = new AnsweredCommits();
    private final RouterMetrics metrics;
    private final UniqueIndexes uniqueIndexes;

    public Transactions(Access access, WritePath writes, ReadPath reads, ShardClients clients, TxnLog log,
                        Limits settings, String routerId, RouterMetrics metrics) {
        this.access = access;
        this.writes = writes;
        this.reads = reads;
        this.clients = clients;
        this.log = log;
        this.settings = settings;
        this.routerId = routerId;
        this.metrics = metrics;
        this.uniqueIndexes = new UniqueIndexes(clients);
        metrics.transactionsInDoubt(this::inDoubt);
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(daemon("router-txn-heartbeat"));
        this.recovery = Executors.newSingleThreadScheduledExecutor(daemon("router-txn-recovery"));
        this.reaper = Executors.newSingleThreadExecutor(daemon("router-txn-reaper"));
        this.committers = new ThreadPoolExecutor(0, BACKGROUND_RESOLUTIONS, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
            daemon("router-txn-commit"), (resolution, pool) -> resolution.run());
        this.resolvers = Executors.newFixedThreadPool(8, task -> {
            Thread thread = new Thread(task, "router-txn-resolve");
            thread.setDaemon(true);
            return thread;
        });
    }

    public void start() {
        long period = Math.max(settings.timeout().toMillis() / 3, 10);
        heartbeat.scheduleWithFixedDelay(guarded("heartbeats", this::heartbeats), period, period, TimeUnit.MILLISECONDS);
        recovery.scheduleWithFixedDelay(guarded("recovery", this::recover), period, period, TimeUnit.MILLISECONDS);
    }

    /** A periodic task that goes on after a failure (a scheduled task that throws is never run again). */
    private static Runnable guarded(String what, Runnable task) {
        return () -> {
            try {
                task.run();
            } catch (Throwable e) {
                LOG.error("transaction {} failed; it runs again at its next period: {}", what, e.toString(), e);
            }
        };
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return task -> {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    /**
     * Runs {@code body} in a transaction and commits it, running it again from its start (with the priority of its
     * first attempt, so it grows older than the transactions it yields to) as long as it fails with
     * {@code TRANSACTION_CONFLICT}, as a driver's {@code withTransaction} does.
     */
    public <T> T inTransaction(Scope scope, Function<Transaction, T> body) {
        long priority = System.currentTimeMillis();
        RouterException last = null;
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            OpenTransaction transaction = begin(scope, priority);
            try {
                T result = body.apply(transaction);
                commit(transaction);
                return result;
            } catch (RouterException e) {
                if (!transaction.ended()) {
                    abort(transaction, "the transaction's body failed: " + e.getMessage());
                }
                if (e.kind() != RouterException.Kind.TRANSACTION_CONFLICT) {
                    throw e;
                }
                last = e;
                sleepQuietly(ThreadLocalRandom.current().nextLong(1, 2L + Math.min(attempt, 20) * 2L));
            } catch (RuntimeException e) {
                if (!transaction.ended()) {
                    abort(transaction, "the transaction's body failed: " + e);
                }
                throw e;
            }
        }
        throw last;
    }

    /** Opens a transaction for {@code scope}; {@code priority} is when its first attempt began. */
    public OpenTransaction begin(Scope scope, long priority) {
        OpenTransaction transaction = new OpenTransaction(this, scope, priority);
        open.put(transaction.id(), transaction);
        return transaction;
    }

    /** A transaction running {@code failed} again: a new one, with the priority of the first attempt. */
    public Transaction beginAgain(Scope scope, Transaction failed) {
        return begin(scope, ((OpenTransaction) failed).priority());
    }

    /** The decision the log holds for a transaction: true committed, false aborted, {@code null} undecided or unknown. */
    public Boolean committed(String txnId) {
        log.awaitCurrent();
        TxnLog.Entry entry = log.entry(txnId);
        return entry == null || entry.decision() == null ? null : entry.decision() == TxnState.COMMITTED;
    }

    /** The open transaction of that id this router coordinates for {@code scope}'s tenant, or {@code null}. */
    public Transaction get(String txnId, Scope scope) {
        OpenTransaction transaction = txnId == null ? null : open.get(txnId);
        return transaction == null || !java.util.Objects.equals(transaction.scope().tenant(), scope.tenant()) ? null : transaction;
    }

    /** Commits: the decision on the log, then every intent resolved. Fails with TRANSACTION_CONFLICT if another router aborted it first. */
    public void commit(Transaction handle) {
        OpenTransaction transaction = (OpenTransaction) handle;
        long start = System.nanoTime();
        if (transaction.ended()) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "transaction " + transaction.id() + " has ended");
        }
        transaction.seal();
        if (transaction.ended()) {
            throw transaction.ended("its commit");
        }
        if (transaction.namespaces().isEmpty()) {
            finish(transaction, "committed");
            return;
        }
        if (System.currentTimeMillis() - transaction.startedAt() > settings.lifetime().toMillis()) {
            abort(transaction, "open for longer than the transaction lifetime " + settings.lifetime());
            throw new RouterException(RouterException.Kind.TRANSACTION_CONFLICT, "transaction " + transaction.id()
                + " was open for longer than its lifetime " + settings.lifetime() + " and is aborted");
        }
        try {
            transaction.validatePredicates();
        } catch (RouterException phantom) {
            abort(transaction, phantom.getMessage());
            throw phantom;
        }
        TxnState decision = decideOrLearn(transaction);
        if (decision == null) {
            // Neither our COMMITTED nor an ABORTED could be read back: the transaction stays on the log, and any router
            // finishes it after the timeout, as its first decision says.
            forget(transaction);
            count("unknown");
            throw new RouterException(RouterException.Kind.TRANSACTION_OUTCOME_UNKNOWN, "transaction " + transaction.id()
                + ": its decision could not be read back from the coordinator log; it is committed or aborted whole, as the log's first "
                + "decision says, and must not be run again before that is known");
        }
        if (decision != TxnState.COMMITTED) {
            resolveAll(transaction, decision);
            throw new RouterException(RouterException.Kind.TRANSACTION_CONFLICT, "transaction " + transaction.id()
                + " was aborted by another router before it could commit: " + cause(transaction.id()));
        }
        resolveAfterAnswer(transaction);
        metrics.transactionCommit(System.nanoTime() - start);
    }

    /**
     * Resolves a committed transaction's intents after its commit answers: the decision on the log is the commit point,
     * and every reader that meets an intent of a decided transaction resolves it as decided. Reads outside transactions
     * on this router wait for the commits it answered before they started ({@link #awaitResolved}), so a client reads
     * its own commit whole; a router that did not coordinate it may see the values from before it for as long as the
     * resolution takes, as a read at read concern local on mongos may during a commit across shards.
     */
    private void resolveAfterAnswer(OpenTransaction transaction) {
        open.remove(transaction.id());
        transaction.end(); // answered: a commit sent again is refused, as is any statement
        AnsweredCommits.Ticket ticket = answered.answered(transaction.id(), transaction.namespaces());
        Runnable resolve = () -> {
            try {
                resolveAll(transaction, TxnState.COMMITTED);
            } finally {
                answered.done(ticket);
            }
        };
        committers.execute(resolve);
    }

    /**
     * Waits until every commit this router answered in {@code namespace} before this call is resolved, at most the
     * transaction timeout (a shard that cannot take a resolution leaves it to recovery): what a read outside
     * transactions does first.
     */
    public void awaitResolved(String namespace) {
        answered.awaitResolved(namespace, settings.timeout().toMillis());
    }

    /**
     * Writes COMMITTED and answers the transaction's decision; when that write or its read-back fails, writes ABORTED
     * instead, whose read-back gives the decision as well (the first of the two, if ours landed). {@code null} when
     * neither could be read back.
     */
    private TxnState decideOrLearn(OpenTransaction transaction) {
        try {
            TxnLog.Decision decided = log.decide(record(transaction, TxnState.COMMITTED, null));
            if (decided != null) {
                return decided.state();
            }
        } catch (RouterException e) {
            LOG.warn("transaction {}: its COMMITTED could not be read back ({}); writing ABORTED to learn its decision", transaction.id(), e.getMessage());
        }
        try {
            TxnLog.Decision decided = log.decide(record(transaction, TxnState.ABORTED, "its commit could not be confirmed on the coordinator log"));
            return decided == null ? null : decided.state();
        } catch (RouterException e) {
            LOG.warn("transaction {}: its decision could not be learnt: {}", transaction.id(), e.getMessage());
            return null;
        }
    }

    /** Aborts: the decision on the log (unless the transaction never wrote one), then every intent released. */
    public void abort(Transaction handle, String cause) {
        OpenTransaction transaction = (OpenTransaction) handle;
        if (transaction.ended()) {
            return;
        }
        transaction.seal();
        transaction.abortedBecause(cause);
        if (transaction.namespaces().isEmpty()) {
            finish(transaction, "aborted");
            return;
        }
        TxnState decision;
        try {
            TxnLog.Decision decided = log.decide(record(transaction, TxnState.ABORTED, cause));
            decision = decided == null ? null : decided.state();
        } catch (RouterException e) {
            forget(transaction);
            LOG.warn("transaction {}: could not write its abort ({}); any router aborts it after the timeout", transaction.id(), e.getMessage());
            return;
        }
        resolveAll(transaction, decision == null ? TxnState.ABORTED : decision);
    }

    private void resolveAll(OpenTransaction transaction, TxnState decision) {
        List<Runnable> steps = new ArrayList<>();
        transaction.heldDocuments().forEach((namespace, documents) -> {
            WritePath.ViewSource views = () -> access.view(namespace, transaction.scope());
            for (Document stored : documents) {
                steps.add(() -> TxnIntents.resolve(writes, views, stored, TxnIntents.of(stored), decision));
            }
        });
        try {
            // Every intent at once: all but the last on the resolvers, the last on this thread.
            List<CompletableFuture<Void>> resolutions = new ArrayList<>();
            for (int i = 0; i < steps.size() - 1; i++) {
                resolutions.add(CompletableFuture.runAsync(steps.get(i), resolvers));
            }
            if (!steps.isEmpty()) {
                steps.get(steps.size() - 1).run();
            }
            CompletableFuture.allOf(resolutions.toArray(CompletableFuture[]::new)).join();
            if (transaction.failedStatement()) {
                // A failed write may have left an intent the transaction never learnt of (its answer was lost).
                resolveFound(transaction.id(), transaction.namespaces(), decision);
            }
            transaction.namespaces().forEach(access::changed);
            log.resolved(record(transaction, decision, null));
        } catch (RuntimeException e) {
            // Decided; the recovery of any router resolves what is left once the timeout has passed.
            LOG.warn("transaction {} is {}, but not every intent could be resolved now: {}", transaction.id(), decision, e.toString());
        } finally {
            finish(transaction, decision == TxnState.COMMITTED ? "committed" : "aborted");
        }
    }

    /** No statement runs on the transaction after this, and its scratch collections go. */
    private void forget(OpenTransaction transaction) {
        open.remove(transaction.id());
        transaction.end();
        try {
            resolvers.execute(transaction::dropScratch);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            transaction.dropScratch(); // the router is closing: dropped here, not left behind
        }
    }

    private void finish(OpenTransaction transaction, String outcome) {
        forget(transaction);
        count(outcome);
    }

    private void count(String outcome) {
        metrics.transactionEnded(outcome);
    }

    /**
     * Sends an ACTIVE record naming every namespace the transaction now touches, as it starts holding documents there;
     * the statement waits for it before it answers ({@link #announced}).
     */
    java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> announce(OpenTransaction transaction) {
        return log.active(record(transaction, TxnState.ACTIVE, null));
    }

    /** Waits until an ACTIVE record {@link #announce} sent is on the log. */
    void announced(OpenTransaction transaction, java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> pending) {
        log.written(transaction.id(), pending);
    }

    /** Fails the statement if another router decided the transaction (aborted it) meanwhile. */
    void requireNotAborted(OpenTransaction transaction) {
        if (transaction.namespaces().isEmpty()) {
            return;
        }
        // A router that wounds a transaction writes the abort before it changes anything the transaction held: once the
        // log is read to its end, a statement that saw such a change also sees the abort.
        log.awaitCurrent();
        TxnLog.Entry entry = log.entry(transaction.id());
        if (entry != null && entry.decision() == TxnState.ABORTED) {
            throw new RouterException(RouterException.Kind.TRANSACTION_CONFLICT, "transaction " + transaction.id() + " was aborted by another router: "
                + entry.latest().getCause());
        }
    }

    /**
     * {@code transaction} met {@code other}'s intent on {@code stored}: resolves it if {@code other} is decided (or
     * ended), wounds {@code other} if it is younger, else waits a moment; fails with TRANSACTION_CONFLICT past the deadline.
     */
    void contend(OpenTransaction transaction, WritePath.ViewSource views, Document stored, long deadline) {
        Document intent = TxnIntents.of(stored);
        String other = TxnIntents.holder(intent);
        if (awaitLocalResolution(other, deadline)) {
            return;
        }
        TxnLog.Entry entry = log.entry(other);
        if (entry != null && entry.decided()) {
            TxnIntents.resolveDecided(writes, reads, views, stored, other, entry.decision());
            return;
        }
        if (entry == null && System.currentTimeMillis() - TxnIntents.lockedAt(intent) > settings.timeout().toMillis()) {
            resolveOrphan(views, stored, intent);
            return;
        }
        boolean older = transaction.priority() < TxnIntents.priority(intent)
            || transaction.priority() == TxnIntents.priority(intent) && transaction.id().compareTo(other) < 0;
        if (older && entry != null) {
            TxnRecord wound = TxnRecord.newBuilder(entry.latest()).setState(TxnState.ABORTED).setRouterId(routerId)
                .setTimestamp(Instant.now()).setCause("wounded by the older transaction " + transaction.id()).build();
            TxnLog.Decision decision = log.decide(wound);
            if (decision != null) {
                if (decision.ours()) {
                    event(ShardEventType.TRANSACTION_ABORTED, entry.latest(), "transaction " + other + " of router " + entry.latest().getRouterId()
                        + " " + wound.getCause());
                }
                TxnIntents.resolveDecided(writes, reads, views, stored, other, decision.state());
            }
            return;
        }
        if (System.currentTimeMillis() >= deadline) {
            throw new RouterException(RouterException.Kind.TRANSACTION_CONFLICT, "transaction " + transaction.id() + " waited "
                + settings.lockTimeout().toMillis() + " ms for a document the older transaction " + other + " holds");
        }
        sleepQuietly(1);
    }

    /**
     * Waits, at most until {@code deadline}, for this router's resolution of a commit it answered, rather than resolving
     * the same intents beside it; answers whether there was one and it ended.
     */
    boolean awaitLocalResolution(String txnId, long deadline) {
        return answered.awaitResolution(txnId, deadline);
    }

    /**
     * An intent held for longer than the timeout by a transaction this router's log does not know. The log is read to
     * its end first (this router's reader may lag); a transaction still unknown gets an ABORTED decision on the log,
     * like any other, and the intent is resolved as the first decision says: never without the log.
     */
    private void resolveOrphan(WritePath.ViewSource views, Document stored, Document intent) {
        String holder = TxnIntents.holder(intent);
        log.awaitCurrent();
        TxnLog.Entry entry = log.entry(holder);
        TxnState decision = entry == null ? null : entry.decision();
        if (entry == null) {
            TxnLog.Decision decided = log.decide(TxnRecord.newBuilder().setTxnId(holder).setState(TxnState.ABORTED).setRouterId(routerId)
                .setNamespaces(List.of(views.view().namespace())).setPriority(Instant.ofEpochMilli(TxnIntents.priority(intent)))
                .setTimestamp(Instant.now()).setCause("an intent of it was left for over " + settings.timeout().toMillis()
                    + " ms with nothing of it on the coordinator log").build());
            decision = decided == null ? null : decided.state();
        }
        if (decision != null) {
            TxnIntents.resolveDecided(writes, reads, views, stored, holder, decision);
        }
    }

    /** {@code scopedFilter} restricted to documents no transaction holds. */
    public static Document unheld(Document scopedFilter) {
        return new Document("$and", List.of(scopedFilter, new Document(TxnIntents.FIELD, new Document("$exists", false))));
    }

    /** {@code scopedFilter} without the documents transactions inserted and have not committed: what a read outside them sees. */
    public static Document visible(Document scopedFilter) {
        return new Document("$and", List.of(scopedFilter, new Document(TxnIntents.OP, new Document("$ne", IntentLayout.Op.INSERT.name()))));
    }

    /** When a write outside transactions that waits for documents to be released gives up: the transaction timeout from now. */
    public long releaseDeadline() {
        return System.currentTimeMillis() + settings.timeout().toMillis();
    }

    /** The ids of the documents matching {@code scopedFilter} that a transaction holds now. */
    public List<Object> heldIds(WritePath.ViewSource views, Document scopedFilter) {
        return reads.stored(views.view(), new Document("$and", List.of(scopedFilter,
            new Document(TxnIntents.FIELD, new Document("$exists", true))))).stream().map(document -> document.get("_id")).toList();
    }

    /**
     * Waits until no transaction holds a document matching {@code scopedFilter}, resolving the intents of transactions
     * that are decided (or orphaned) on the way.
     *
     * @throws RouterException RETRYABLE at {@code deadline}, naming a document still held and its holder
     */
    public void awaitReleased(WritePath.ViewSource views, Document scopedFilter, long deadline) {
        Document heldFilter = new Document("$and", List.of(scopedFilter, new Document(TxnIntents.FIELD, new Document("$exists", true))));
        while (true) {
            List<Document> held = reads.stored(views.view(), heldFilter);
            if (held.isEmpty()) {
                return;
            }
            for (Document stored : held) {
                Document intent = TxnIntents.of(stored);
                if (intent == null) {
                    continue;
                }
                if (awaitLocalResolution(TxnIntents.holder(intent), deadline)) {
                    continue;
                }
                TxnLog.Entry entry = log.entry(TxnIntents.holder(intent));
                if (entry != null && entry.decided()) {
                    TxnIntents.resolveDecided(writes, reads, views, stored, TxnIntents.holder(intent), entry.decision());
                } else if (entry == null && System.currentTimeMillis() - TxnIntents.lockedAt(intent) > settings.timeout().toMillis()) {
                    resolveOrphan(views, stored, intent);
                }
            }
            if (System.currentTimeMillis() >= deadline) {
                Document first = held.get(0);
                throw new RouterException(RouterException.Kind.RETRYABLE, "document " + first.get("_id") + " is held by transaction "
                    + TxnIntents.holder(TxnIntents.of(first)) + " for longer than the transaction timeout " + settings.timeout().toMillis()
                    + " ms; retry");
            }
            sleepQuietly(1);
        }
    }

    private void heartbeats() {
        long now = System.currentTimeMillis();
        for (OpenTransaction transaction : open.values()) {
            if (now - transaction.startedAt() > settings.lifetime().toMillis()) {
                // Abandoned by its client (an interactive transaction nobody commits): aborted, its intents released.
                open.remove(transaction.id());
                reaper.execute(() -> {
                    String cause = "open for longer than the transaction lifetime " + settings.lifetime();
                    abort(transaction, cause);
                    event(ShardEventType.TRANSACTION_ABORTED, record(transaction, TxnState.ABORTED, cause), "transaction " + transaction.id()
                        + " of router " + routerId + " " + cause);
                });
                continue;
            }
            // A sealed transaction is deciding: a heartbeat after its decision could be the last record compaction keeps.
            if (!transaction.ended() && !transaction.sealed() && !transaction.namespaces().isEmpty()) {
                log.heartbeat(record(transaction, TxnState.ACTIVE, null));
            }
        }
    }

    /**
     * Aborts the transactions whose coordinator went quiet, finishes the decided ones whose intents nobody resolved,
     * and ends (tombstones) the resolved ones once no coordinator can still be deciding them.
     */
    private void recover() {
        long now = System.currentTimeMillis();
        long forgetAfter = settings.lifetime().toMillis() + settings.timeout().toMillis();
        for (TxnLog.Entry entry : log.open()) {
            if (entry.resolved()) {
                if (now - entry.resolvedAtMillis() > forgetAfter) {
                    log.end(entry.txnId());
                }
                continue;
            }
            if (open.containsKey(entry.txnId()) || !overdue(entry, now)) {
                continue;
            }
            try {
                TxnState decision = entry.decision();
                if (decision == null) {
                    TxnLog.Decision decided = log.decide(TxnRecord.newBuilder(entry.latest()).setState(TxnState.ABORTED).setRouterId(routerId)
                        .setTimestamp(Instant.now()).setCause("its coordinator " + entry.latest().getRouterId() + " wrote nothing for over "
                            + settings.timeout().toMillis() + " ms").build());
                    decision = decided == null ? null : decided.state();
                }
                if (decision == null) {
                    continue;
                }
                resolveFound(entry.txnId(), entry.latest().getNamespaces(), decision);
                dropScratch(entry.txnId());
                log.resolved(TxnRecord.newBuilder(entry.latest()).setState(decision).setRouterId(routerId).build());
                metrics.transactionRecovered();
                LOG.info("transaction {} of router {} recovered: {}", entry.txnId(), entry.latest().getRouterId(), decision);
                event(ShardEventType.TRANSACTION_RECOVERED, entry.latest(), "transaction " + entry.txnId() + " of router "
                    + entry.latest().getRouterId() + " " + (decision == TxnState.COMMITTED ? "committed" : "aborted") + " by router " + routerId
                    + (entry.decided() ? ": it was decided, its intents were not all resolved" : ": its coordinator wrote nothing for over "
                    + settings.timeout().toMillis() + " ms"));
            } catch (RuntimeException e) {
                LOG.warn("transaction {}: recovery failed, tried again later: {}", entry.txnId(), e.toString());
            }
        }
    }

    private boolean overdue(TxnLog.Entry entry, long now) {
        if (entry.resolved()) {
            return false;
        }
        long since = entry.decided() ? entry.decidedAtMillis() : entry.latest().getTimestamp().toEpochMilli();
        return now - since > settings.timeout().toMillis();
    }

    private long inDoubt() {
        long now = System.currentTimeMillis();
        return log.open().stream().filter(entry -> overdue(entry, now)).count();
    }

    /** Drops the scratch collections a transaction whose coordinator stopped may have left on any shard. */
    private void dropScratch(String txnId) {
        for (String shard : access.shardIds()) {
            try {
                clients.client(shard).getDatabase(OpenTransaction.SCRATCH_DATABASE).getCollection(OpenTransaction.scratchName(txnId)).drop();
            } catch (RuntimeException e) {
                LOG.warn("could not drop the scratch collection of transaction {} on {}: {}", txnId, shard, e.toString());
            }
        }
    }

    /** Resolves every intent of {@code txnId} found in {@code namespaces}, wherever their documents are now. */
    private void resolveFound(String txnId, List<String> namespaces, TxnState decision) {
        for (String namespace : namespaces) {
            WritePath.ViewSource views = () -> access.view(namespace, Scope.service());
            Document query = new Document(TxnIntents.ID, txnId);
            for (Document stored : reads.stored(views.view(), query)) {
                TxnIntents.resolve(writes, views, stored, TxnIntents.of(stored), decision);
            }
            access.changed(namespace);
        }
    }

    private void event(ShardEventType type, TxnRecord record, String reason) {
        Map<String, Double> figures = new java.util.HashMap<>();
        figures.put("ageMillis", (double) (System.currentTimeMillis() - record.getPriority().toEpochMilli()));
        log.event(ShardEvent.newBuilder().setEventId(java.util.UUID.randomUUID().toString()).setType(type).setTimestamp(Instant.now())
            .setSource("router:" + routerId).setNamespace(record.getNamespaces().isEmpty() ? null : String.join(",", record.getNamespaces()))
            .setReason(reason).setFigures(figures).build());
    }

    private String cause(String txnId) {
        TxnLog.Entry entry = log.entry(txnId);
        return entry == null || entry.latest().getCause() == null ? "unknown" : entry.latest().getCause();
    }

    private TxnRecord record(OpenTransaction transaction, TxnState state, String cause) {
        return TxnRecord.newBuilder().setTxnId(transaction.id()).setState(state).setRouterId(routerId)
            .setNamespaces(transaction.namespaces()).setPriority(Instant.ofEpochMilli(transaction.priority()))
            .setTimestamp(Instant.now()).setCause(cause).build();
    }

    Access access() {
        return access;
    }

    WritePath writes() {
        return writes;
    }

    ReadPath reads() {
        return reads;
    }

    /** Forgets the unique indexes read of {@code namespace}: the next update in a transaction reads them again. */
    public void indexesChanged(String namespace) {
        uniqueIndexes.forget(namespace);
    }

    UniqueIndexes uniqueIndexes() {
        return uniqueIndexes;
    }

    ShardClients clients() {
        return clients;
    }

    Limits settings() {
        return settings;
    }

    String routerId() {
        return routerId;
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RouterException(RouterException.Kind.RETRYABLE, "interrupted", e);
        }
    }

    @Override
    public void close() {
        heartbeat.shutdownNow();
        recovery.shutdownNow();
        reaper.shutdownNow();
        // The commits answered are resolved before the router goes (else another router's recovery finishes them).
        committers.shutdown();
        try {
            if (!committers.awaitTermination(settings.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("closing with commits not resolved yet; any router's recovery resolves them after the timeout");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        committers.shutdownNow();
        resolvers.shutdownNow();
    }
}
