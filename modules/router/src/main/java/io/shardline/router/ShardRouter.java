package io.shardline.router;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.bson.Document;
import org.bson.types.ObjectId;

import io.shardline.core.key.KeyRange;
import io.shardline.core.routing.Chunk;
import io.shardline.router.api.Explain;
import io.shardline.router.api.FindAndModifyRequest;
import io.shardline.router.api.FindAndModifyResult;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.FindResult;
import io.shardline.router.api.InsertOutcome;
import io.shardline.router.api.QueryCursor;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.RouterHealth;
import io.shardline.router.api.Scope;
import io.shardline.router.api.ShardCommandException;
import io.shardline.router.api.Transaction;
import io.shardline.router.api.WriteResult;
import io.shardline.router.internal.AcknowledgedDocuments;
import io.shardline.router.internal.DocumentOrder;
import io.shardline.router.internal.HeldDocuments;
import io.shardline.router.internal.NamespaceView;
import io.shardline.router.internal.ReadPath;
import io.shardline.router.internal.RequestGuards;
import io.micrometer.core.instrument.MeterRegistry;
import io.shardline.router.internal.CdcInvalidator;
import io.shardline.router.internal.LoadCounter;
import io.shardline.router.internal.ReadCache;
import io.shardline.router.internal.ReleasedRanges;
import io.shardline.router.internal.RouterMetrics;
import io.shardline.router.internal.RouterSignals;
import io.shardline.router.internal.InFlightWrites;
import io.shardline.router.internal.RoutingState;
import io.shardline.router.internal.Transactions;
import io.shardline.router.internal.TxnLog;
import io.shardline.router.internal.WritePath;
import io.shardline.router.internal.RoutingStateConsumer;
import io.shardline.router.internal.RoutingStore;
import io.shardline.router.internal.ShardAvailability;
import io.shardline.router.internal.StandbyAcks;
import io.shardline.router.internal.ShardClients;
import io.shardline.router.internal.ShardTargets;
import io.shardline.router.internal.TargetPlan;
import io.shardline.router.internal.UpdateRules;
import io.shardline.schemas.DeadLetterProducer;
import io.shardline.schemas.avro.ShardState;

/**
 * The query router as a Java library: what an application uses instead of a single MongoDB. Every call names the
 * caller's tenant; the router scopes the request to it, sends single-key requests to the one shard that owns the
 * key, and runs the rest on the shards they target, in parallel.
 */
public final class ShardRouter implements AutoCloseable {

    private static final int STALE_ROUTING_ATTEMPTS = 3;

    private final RouterConfig config;
    private final RoutingState state = new RoutingState();
    private final RoutingStateConsumer consumer;
    private final DeadLetterProducer deadLetters;
    private final ShardClients clients;
    private final ShardAvailability availability;
    private final StandbyAcks standbyAcks;
    private final ExecutorService executor;
    private final ReadPath reads;
    private final WritePath writes;
    private final InFlightWrites inFlight;
    private final RouterMetrics metrics;
    private final RouterSignals signals;
    private final ReadCache cache;
    private final CdcInvalidator invalidator;
    private final TxnLog txnLog;
    private final Transactions transactions;
    private final HeldDocuments held;

    private ShardRouter(RouterConfig config, MeterRegistry registry) {
        this.config = config;
        RouterMetrics metrics = new RouterMetrics(registry);
        this.metrics = metrics;
        this.deadLetters = new DeadLetterProducer(config.bootstrapServers(), config.catalog().controlDlq().name(), "router:" + config.routerId());
        this.consumer = new RoutingStateConsumer(config.bootstrapServers(), config.catalog(), state, deadLetters,
            config.routingStore() == null ? null : new RoutingStore(config.routingStore()));
        metrics.routingFeed(consumer);
        this.clients = new ShardClients(state, config.shardTimeout().toMillis(), config.shardPoolSize(), config.shardPoolWait().toMillis(),
            config.shardPoolIdle().toMillis(), metrics);
        this.availability = new ShardAvailability(state, metrics);
        this.standbyAcks = new StandbyAcks(state, config.standbyAckTimeout(), metrics);
        AtomicInteger threads = new AtomicInteger();
        this.executor = Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "router-shard-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        LoadCounter load = new LoadCounter();
        this.cache = new ReadCache(config.readCacheEntries());
        this.invalidator = cache.enabled() ? new CdcInvalidator(config.bootstrapServers(), cache) : null;
        state.onRoutingChange(cache::invalidate);
        this.inFlight = new InFlightWrites(state);
        AcknowledgedDocuments acknowledged = new AcknowledgedDocuments(config.routerId());
        this.signals = new RouterSignals(new RouterSignals.Settings(config.routerId(), config.bootstrapServers(), config.catalog(),
            config.signalInterval(), config.leaseDuration()), state, load, inFlight, acknowledged);
        metrics.lease(signals::leaseValid);
        ReleasedRanges releases = new ReleasedRanges(clients,
            () -> config.releaseCheck() == RouterConfig.ReleaseCheck.EVERY_READ || !signals.leaseValid());
        this.reads = new ReadPath(clients, executor, config.shardTimeout().toMillis(), metrics, load, releases, availability);
        this.writes = new WritePath(clients, state, config.fenceBudget().toMillis(), metrics, load, signals, inFlight, acknowledged,
            config.shardTimeout().toMillis(), availability, standbyAcks);
        this.txnLog = new TxnLog(config.bootstrapServers(), config.catalog().txn(), config.catalog().txnDecisions(), config.catalog().events(), deadLetters, config.shardTimeout());
        this.transactions = new Transactions(new TransactionAccess(), writes, reads, clients, txnLog, new Transactions.Limits(config.transactions().lockTimeout(),
            config.transactions().timeout(), config.transactions().lifetime()), config.routerId(), metrics);
        this.held = new HeldDocuments(transactions);
    }

    /** What a transaction uses of this router: the same scoping and checks as any request. */
    private final class TransactionAccess implements Transactions.Access {
        @Override
        public NamespaceView view(String namespace, Scope scope) {
            return ShardRouter.this.view(namespace, scope);
        }

        @Override
        public Document scoped(Scope scope, Document filter) {
            RequestGuards.check("filter", filter);
            return ShardRouter.this.scoped(scope, filter);
        }

        @Override
        public Document scopedDocument(Scope scope, String field, Document document) {
            return ShardRouter.this.scopedDocument(scope, field, document);
        }

        @Override
        public Document checkedUpdate(Scope scope, String namespace, Document filter, Document update) {
            return ShardRouter.this.checkedUpdate(scope, namespace, ShardRouter.this.scoped(scope, filter), update, false);
        }

        @Override
        public Document modifyOne(Scope scope, String namespace, Document scopedFilter, Document update) {
            UpdateRules rules = new UpdateRules(config.tenantField(), ShardRouter.this.view(namespace).strategy().fields());
            FindAndModifyResult result = writes.findAndModify(() -> ShardRouter.this.view(namespace, scope),
                new FindAndModifyRequest(scopedFilter, null, update, false, true, null, false), rules, reads::first);
            return result.document();
        }

        @Override
        public UpdateRules rules(String namespace) {
            return new UpdateRules(config.tenantField(), ShardRouter.this.view(namespace).strategy().fields());
        }

        @Override
        public java.util.Collection<String> shardIds() {
            return ShardRouter.this.shardIds();
        }

        @Override
        public void changed(String namespace) {
            cache.invalidate(namespace);
        }
    }

    /**
     * Starts a router and waits until it has applied what is on the routing, shards and config topics.
     *
     * @param registry where the router's meters go
     */
    public static ShardRouter start(RouterConfig config, MeterRegistry registry, Duration startupTimeout) throws InterruptedException {
        ShardRouter router = new ShardRouter(config, registry);
        router.consumer.start();
        if (!router.consumer.awaitCaughtUp(startupTimeout)) {
            router.close();
            throw new IllegalStateException("the router did not read the routing topics within " + startupTimeout);
        }
        router.signals.start();
        router.txnLog.start();
        if (!router.txnLog.awaitCaughtUp(startupTimeout)) {
            router.close();
            throw new IllegalStateException("the router did not read the transaction log within " + startupTimeout);
        }
        router.transactions.start();
        if (router.invalidator != null) {
            router.invalidator.start();
            if (!router.invalidator.awaitAssigned(startupTimeout)) {
                router.close();
                throw new IllegalStateException("the read cache could not follow the CDC topics within " + startupTimeout);
            }
        }
        long deadline = System.nanoTime() + startupTimeout.toNanos();
        while (!router.signals.leaseValid() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        if (!router.signals.leaseValid()) {
            router.close();
            throw new IllegalStateException("the router could not acknowledge its routing version within " + startupTimeout);
        }
        return router;
    }

    /**
     * Reads go to the owners the routing names, filtered to their ranges. Right after a lease runs out that routing is
     * still good: a range that moved is still on its old owner, reverse-replicated, for the grace period. A router that
     * has not confirmed its routing for longer than {@code maxReadStaleness} may have missed a cutover whose grace is
     * over: it waits, at most the shard timeout, until it has caught up and renewed its lease, else refuses the read.
     */
    private void awaitFreshRouting() {
        long lapsed = System.currentTimeMillis() - signals.leaseValidUntilMillis();
        if (lapsed <= config.maxReadStaleness().toMillis()) {
            return;
        }
        long deadline = System.nanoTime() + config.shardTimeout().toNanos();
        while (!signals.leaseValid() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (!signals.leaseValid()) {
            throw new RouterException(RouterException.Kind.RETRYABLE, "routing: this router has not confirmed its routing for "
                + lapsed + " ms (over maxReadStaleness " + config.maxReadStaleness().toMillis() + " ms) and could not catch up: "
                + "a read could miss a range that moved; retry");
        }
    }

    /** True while this router holds a lease, i.e. may serve writes. */
    public boolean leaseValid() {
        return signals.leaseValid();
    }

    /**
     * What this router can serve now: DOWN while its lease has run out, DEGRADED while some registered shards are DOWN
     * (their ranges are refused at once, the rest served), UP otherwise; with the routing version, how long ago the
     * routing was last confirmed, and the shards that are DOWN ({@link RouterHealth}).
     */
    public RouterHealth health() {
        return RouterHealth.of(java.time.Instant.now(), state.version(), signals.leaseValidUntilMillis(), config.leaseDuration(),
            config.maxReadStaleness(), availability.shardsDown());
    }

    public String routerId() {
        return config.routerId();
    }

    public MeterRegistry meterRegistry() {
        return metrics.registry();
    }

    /** The sharded namespaces this router knows ({@code db.collection}), sorted. */
    public java.util.SortedSet<String> namespaces() {
        return state.namespaces();
    }

    /** Highest chunk version this router has applied. */
    public long routingVersion() {
        return state.version();
    }

    /** Waits until the router has applied a chunk version above {@code version}; returns the version applied. */
    public long awaitRoutingVersionAbove(long version, Duration timeout) throws InterruptedException {
        return state.awaitVersionAbove(version, timeout.toMillis());
    }

    public FindResult find(String tenant, String namespace, FindRequest request) {
        return find(Scope.tenant(tenant), namespace, request);
    }

    public FindResult find(Scope scope, String namespace, FindRequest request) {
        transactions.awaitResolved(namespace); // a commit this router answered is read whole
        RequestGuards.check("filter", request.filter());
        RequestGuards.check("projection", request.projection());
        RequestGuards.check("sort", request.sort());
        Document scoped = visible(scoped(scope, request.filter()));
        awaitFreshRouting();
        return cached(namespace, "find", scope, request, refreshing(() -> reads.find(view(namespace), scoped, request)));
    }

    /**
     * Opens a find read lazily from the shards ({@link QueryCursor}), for callers that page through a result (the
     * wire protocol's cursors). Not cached: a cursor is consumed over time.
     *
     * @param batchSize documents each shard returns per batch, 0 for the shard's default
     */
    public QueryCursor open(Scope scope, String namespace, FindRequest request, int batchSize) {
        transactions.awaitResolved(namespace); // a commit this router answered is read whole
        RequestGuards.check("filter", request.filter());
        RequestGuards.check("projection", request.projection());
        RequestGuards.check("sort", request.sort());
        Document scoped = visible(scoped(scope, request.filter()));
        awaitFreshRouting();
        return refreshing(() -> reads.open(view(namespace), scoped, request, batchSize)).get();
    }

    /**
     * Runs an aggregation pipeline of {@code $match}, {@code $project}, {@code $sort}, {@code $skip}, {@code $limit},
     * {@code $group} ({@code $sum $count $min $max $avg $first $last}) and {@code $count} stages: partially on the
     * shards, finished at the router.
     */
    public FindResult aggregate(String tenant, String namespace, List<Document> pipeline, boolean allowPartial) {
        return aggregate(Scope.tenant(tenant), namespace, pipeline, allowPartial);
    }

    public FindResult aggregate(Scope scope, String namespace, List<Document> pipeline, boolean allowPartial) {
        transactions.awaitResolved(namespace); // a commit this router answered is read whole
        checkPipeline(scope, pipeline);
        Document tenantFilter = visible(scoped(scope, new Document()));
        awaitFreshRouting();
        return cached(namespace, "aggregate", scope, List.of(pipeline, allowPartial),
            refreshing(() -> reads.aggregate(view(namespace), tenantFilter, pipeline, allowPartial)));
    }

    public long count(String tenant, String namespace, Document filter, boolean allowPartial) {
        return count(Scope.tenant(tenant), namespace, filter, allowPartial);
    }

    public long count(Scope scope, String namespace, Document filter, boolean allowPartial) {
        transactions.awaitResolved(namespace); // a commit this router answered is read whole
        RequestGuards.check("filter", filter);
        Document scoped = visible(scoped(scope, filter));
        awaitFreshRouting();
        return cached(namespace, "count", scope, List.of(scoped, allowPartial), refreshing(() -> reads.count(view(namespace), scoped, allowPartial)));
    }

    public List<Object> distinct(String tenant, String namespace, String key, Document filter) {
        return distinct(Scope.tenant(tenant), namespace, key, filter);
    }

    public List<Object> distinct(Scope scope, String namespace, String key, Document filter) {
        transactions.awaitResolved(namespace); // a commit this router answered is read whole
        if (key == null || key.isBlank() || key.startsWith("$")) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "key: a field name is required, was '" + key + "'");
        }
        RequestGuards.check("key", new Document(key, 1));
        RequestGuards.check("filter", filter);
        Document scoped = visible(scoped(scope, filter));
        awaitFreshRouting();
        return cached(namespace, "distinct", scope, List.of(key, scoped), refreshing(() -> reads.distinct(view(namespace), key, scoped)));
    }

    public WriteResult insert(String tenant, String namespace, List<Document> documents) {
        return insert(Scope.tenant(tenant), namespace, documents);
    }

    public WriteResult insert(Scope scope, String namespace, List<Document> documents) {
        transactions.awaitResolved(namespace); // a document a commit this router answered deleted is gone
        if (documents == null || documents.isEmpty()) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "documents: at least one document is required");
        }
        List<Document> scoped = new ArrayList<>(documents.size());
        for (int i = 0; i < documents.size(); i++) {
            scoped.add(scopedDocument(scope, "documents[" + i + "]", documents.get(i)));
        }
        try {
            return writes.insert(() -> view(namespace, scope), scoped);
        } finally {
            cache.invalidate(namespace);
        }
    }

    /**
     * Inserts documents one statement each, as MongoDB's {@code insert} command does: {@code ordered} stops at the
     * first statement that fails, otherwise every statement is tried. Statements going to the same shard travel
     * together. The outcome names each failed statement by its index.
     */
    public InsertOutcome insertStatements(Scope scope, String namespace, List<Document> documents, boolean ordered) {
        transactions.awaitResolved(namespace); // a document a commit this router answered deleted is gone
        if (documents == null || documents.isEmpty()) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "documents: at least one document is required");
        }
        List<Document> scoped = new ArrayList<>(documents.size());
        List<InsertOutcome.StatementError> refused = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            try {
                scoped.add(scopedDocument(scope, "documents[" + i + "]", documents.get(i)));
            } catch (RouterException e) {
                scoped.add(null);
                refused.add(new InsertOutcome.StatementError(i, e));
                if (ordered) {
                    break;
                }
            }
        }
        try {
            return writes.insertStatements(() -> view(namespace, scope), scoped, ordered, refused);
        } finally {
            cache.invalidate(namespace);
        }
    }

    private Document scopedDocument(Scope scope, String field, Document document) {
        RequestGuards.check(field, document);
        RequestGuards.rejectTooLarge(field, document);
        Document copy = new Document(document);
        if (!scope.isService()) {
            Object owner = document.get(config.tenantField());
            if (owner != null && !scope.tenant().equals(owner)) {
                throw new RouterException(RouterException.Kind.FORBIDDEN, field + "." + config.tenantField()
                    + " is '" + owner + "', not the caller's tenant '" + scope.tenant() + "'");
            }
            copy.put(config.tenantField(), scope.tenant());
        }
        // As the MongoDB driver does on insert; here before the shard key is computed, since it may include _id.
        copy.putIfAbsent("_id", new ObjectId());
        return copy;
    }

    public WriteResult update(String tenant, String namespace, Document filter, Document update, boolean multi, boolean upsert) {
        return update(Scope.tenant(tenant), namespace, filter, update, multi, upsert);
    }

    public WriteResult update(Scope scope, String namespace, Document filter, Document update, boolean multi, boolean upsert) {
        transactions.awaitResolved(namespace); // a commit this router answered is written over whole
        if (update == null || update.isEmpty()) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "update: an update document is required");
        }
        RequestGuards.check("filter", filter);
        Document scopedFilter = scoped(scope, filter);
        Document checked = checkedUpdate(scope, namespace, scopedFilter, update, upsert);
        WritePath.ViewSource views = () -> view(namespace, scope);
        try {
            return held.write(views, scopedFilter, multi, upsert, guarded -> writes.update(views, guarded, checked, multi, upsert),
                WriteResult::matched, HeldDocuments::combined);
        } finally {
            cache.invalidate(namespace);
        }
    }

    /** Hides from a read outside a transaction the documents a transaction inserted and has not committed. */
    private static Document visible(Document scopedFilter) {
        return Transactions.visible(scopedFilter);
    }

    /** An update checked as every request's is, scoped to the caller's tenant, and never changing a tenant or shard key. */
    private Document checkedUpdate(Scope scope, String namespace, Document scopedFilter, Document update, boolean upsert) {
        if (update == null || update.isEmpty()) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "update: an update document is required");
        }
        RequestGuards.check("update", update);
        RequestGuards.rejectTooLarge("update", update);
        Document scopedUpdate = keepingTenant(scope, scopedFilter, scopedUpdate(scope, update));
        return new UpdateRules(config.tenantField(), view(namespace).strategy().fields()).check(scopedFilter, scopedUpdate, upsert);
    }

    /**
     * Runs {@code body} as one cross-shard transaction of the caller and commits it: all of it or nothing becomes
     * visible, and no other transaction sees or changes what it holds meanwhile. It runs again from its start while it
     * fails with {@link RouterException.Kind#TRANSACTION_CONFLICT} (as a driver's {@code withTransaction} does); any
     * other failure aborts it and reaches the caller.
     */
    public <T> T inTransaction(String tenant, java.util.function.Function<Transaction, T> body) {
        return inTransaction(Scope.tenant(tenant), body);
    }

    /** {@link #inTransaction(String, java.util.function.Function)} for a caller's scope (a tenant, or the service, and a durability). */
    public <T> T inTransaction(Scope scope, java.util.function.Function<Transaction, T> body) {
        requireServing();
        return transactions.inTransaction(scope, body);
    }

    /** Opens a transaction for interactive use: statements on the handle, then {@link #commit} or {@link #abort}. */
    public Transaction begin(Scope scope) {
        requireServing();
        return transactions.begin(scope, System.currentTimeMillis());
    }

    /** Commits a transaction {@link #begin} opened; TRANSACTION_CONFLICT if another router aborted it first. */
    public void commit(Transaction transaction) {
        transactions.commit(transaction);
    }

    /** Aborts a transaction {@link #begin} opened: nothing of it becomes visible. */
    public void abort(Transaction transaction) {
        transactions.abort(transaction, "aborted by its client");
    }

    /**
     * What the coordinator log says of a transaction whose commit answered {@code TRANSACTION_OUTCOME_UNKNOWN}: true
     * once it is committed, false once aborted, {@code null} while undecided (or long forgotten).
     */
    public Boolean committed(String txnId) {
        return transactions.committed(txnId);
    }

    /** Opens a transaction that runs again one that failed with a conflict, with its priority (it ages until it wins). */
    public Transaction beginAgain(Scope scope, Transaction failed) {
        requireServing();
        return transactions.beginAgain(scope, failed);
    }

    /** The open transaction of that id this router coordinates for the caller's tenant, or {@code null}. */
    public Transaction transaction(String txnId, Scope scope) {
        return transactions.get(txnId, scope);
    }

    private void requireServing() {
        if (!signals.leaseValid()) {
            throw new RouterException(RouterException.Kind.RETRYABLE, "routing: this router holds no lease and cannot write; retry");
        }
    }

    /**
     * A service caller's replacement keeps the stored document's tenant: it carries the tenant field, or the filter fixes
     * it by equality (and the replacement gets it from there). A replacement without either would remove the tenant
     * of the document it replaces, so it is refused naming the field. (A tenant's replacement gets its tenant.)
     */
    private Document keepingTenant(Scope scope, Document scopedFilter, Document update) {
        if (!scope.isService() || update.keySet().stream().anyMatch(k -> k.startsWith("$")) || update.containsKey(config.tenantField())) {
            return update;
        }
        Object fixed = UpdateRules.equalities(scopedFilter).get(config.tenantField());
        if (fixed == null) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "update." + config.tenantField() + ": a replacement must carry the"
                + " tenant field, or the filter fix it by equality, so that the stored document keeps its tenant");
        }
        Document kept = new Document(update);
        kept.put(config.tenantField(), fixed);
        return kept;
    }

    /** A tenant's update may not name another tenant, and a tenant's replacement gets the tenant's field. */
    private Document scopedUpdate(Scope scope, Document update) {
        if (scope.isService()) {
            return update;
        }
        Object owner = update.get(config.tenantField());
        if (owner != null && !scope.tenant().equals(owner)) {
            throw new RouterException(RouterException.Kind.FORBIDDEN, "update." + config.tenantField() + " names another tenant");
        }
        if (update.keySet().stream().noneMatch(k -> k.startsWith("$"))) {
            Document scoped = new Document(update);
            scoped.put(config.tenantField(), scope.tenant());
            return scoped;
        }
        return update;
    }

    /**
     * Removes or updates the first document matching a filter in a sort order, and answers with it as it was or as it
     * became, as MongoDB's {@code findAndModify} does; at most one document is modified, and the one answered is the one
     * modified. A filter confined to one chunk runs on its owner in one step; otherwise the router finds the first
     * matching document across the target shards and modifies it on its owner if it still matches, reading again when
     * another write took it first (see {@link WritePath#findAndModify}). Updates follow the same rules as
     * {@link #update}: operators or a replacement, never changing a tenant or shard key, and an upsert's filter fixes the
     * shard key.
     */
    public FindAndModifyResult findAndModify(Scope scope, String namespace, FindAndModifyRequest request) {
        transactions.awaitResolved(namespace); // a commit this router answered is written over whole
        RequestGuards.check("query", request.filter());
        RequestGuards.check("sort", request.sort());
        RequestGuards.check("fields", request.fields());
        if (request.sort() != null && !request.sort().isEmpty()) {
            new DocumentOrder(request.sort()); // refuses a direction other than 1 or -1, naming the field
        }
        Document scopedFilter = scoped(scope, request.filter());
        UpdateRules rules = new UpdateRules(config.tenantField(), view(namespace).strategy().fields());
        Document update = null;
        if (!request.remove()) {
            RequestGuards.check("update", request.update());
            RequestGuards.rejectTooLarge("update", request.update());
            update = rules.check(scopedFilter, scopedUpdate(scope, request.update()), request.upsert());
        }
        WritePath.ViewSource views = () -> view(namespace, scope);
        Document modification = update;
        try {
            return held.write(views, scopedFilter, false, request.upsert(), filter -> writes.findAndModify(views,
                new FindAndModifyRequest(filter, request.sort(), modification, request.remove(), request.returnNew(), request.fields(), request.upsert()),
                rules, reads::first), FindAndModifyResult::n, (first, second) -> second);
        } finally {
            cache.invalidate(namespace);
        }
    }

    public WriteResult delete(String tenant, String namespace, Document filter, boolean multi) {
        return delete(Scope.tenant(tenant), namespace, filter, multi);
    }

    public WriteResult delete(Scope scope, String namespace, Document filter, boolean multi) {
        transactions.awaitResolved(namespace); // a commit this router answered is written over whole
        RequestGuards.check("filter", filter);
        try {
            WritePath.ViewSource views = () -> view(namespace, scope);
            return held.write(views, scoped(scope, filter), multi, false, scoped -> writes.delete(views, scoped, multi), WriteResult::deleted,
                HeldDocuments::combined);
        } finally {
            cache.invalidate(namespace);
        }
    }

    /** Which shards and chunks a filter targets, and why. */
    public Explain explain(String tenant, String namespace, Document filter) {
        return explain(Scope.tenant(tenant), namespace, filter);
    }

    public Explain explain(Scope scope, String namespace, Document filter) {
        RequestGuards.check("filter", filter);
        return explained(namespace, scoped(scope, filter));
    }

    /**
     * Which shards and chunks an aggregation pipeline targets, and why: its leading {@code $match} stages target as a
     * filter does. A pipeline the router would refuse is refused.
     */
    public Explain explainAggregate(Scope scope, String namespace, List<Document> pipeline) {
        checkPipeline(scope, pipeline);
        return explained(namespace, ReadPath.aggregationTargeting(scoped(scope, new Document()), pipeline));
    }

    private Explain explained(String namespace, Document scoped) {
        NamespaceView view = view(namespace);
        TargetPlan plan = view.plan(scoped);
        ShardTargets targets = ShardTargets.of(view.routing(), plan);
        List<String> ranges = plan.ranges().stream().map(ShardRouter::describe).toList();
        List<String> chunks = targets.chunks().stream().map(ShardRouter::describe).toList();
        Map<String, List<String>> byShard = new LinkedHashMap<>();
        targets.chunksByShard().forEach((shard, owned) -> byShard.put(shard, owned.stream().map(ShardRouter::describe).toList()));
        return new Explain(namespace, plan.isAll(), plan.reason(), ranges, chunks, targets.shards(), state.version(), byShard);
    }

    private static String describe(Chunk chunk) {
        return describe(chunk.range()) + "@" + chunk.shardId() + " v" + chunk.version();
    }

    /** The fields a namespace's shard key is computed from, in order. */
    public List<String> shardKeyFields(String namespace) {
        return view(namespace).strategy().fields();
    }

    /**
     * The shards that administration commands (indexes, collections) go to: every registered shard that is not
     * RETIRED, since any of them may be given chunks. Sorted by id.
     */
    public java.util.SortedSet<String> shardIds() {
        java.util.SortedSet<String> ids = new java.util.TreeSet<>();
        state.shards().forEach((id, shard) -> {
            if (shard.getState() != ShardState.RETIRED) {
                ids.add(id);
            }
        });
        return ids;
    }

    /**
     * Says that {@code namespace}'s indexes changed through this router (an index created or dropped): a transaction's
     * update checks its unique indexes as read again at once, not as read up to 10 s before.
     */
    public void indexesChanged(String namespace) {
        transactions.indexesChanged(namespace);
    }

    /**
     * Runs one command on each of the given shards, in parallel, each on its own connection to the shard. A shard that
     * is DOWN is not sent the command: it fails at once for that shard.
     *
     * @return each shard's reply, by shard id
     * @throws ShardCommandException when it failed on any of them: naming the shard, with that shard's error as the
     *                               cause and the replies of the others
     */
    public java.util.SortedMap<String, Document> runOnShards(java.util.Collection<String> shardIds, String database, Document command) {
        String name = command.isEmpty() ? "" : command.keySet().iterator().next();
        Map<String, Future<Document>> running = new LinkedHashMap<>();
        Map<String, RuntimeException> failures = new LinkedHashMap<>();
        for (String shard : new java.util.TreeSet<>(shardIds)) {
            java.util.Optional<RouterException> down = availability.refusal(name, shard);
            if (down.isPresent()) {
                failures.put(shard, down.get());
                continue;
            }
            running.put(shard, executor.submit(() -> metrics.timed(shard, name,
                () -> clients.client(shard).getDatabase(database).runCommand(command))));
        }
        java.util.SortedMap<String, Document> replies = new java.util.TreeMap<>();
        for (Map.Entry<String, Future<Document>> shard : running.entrySet()) {
            try {
                replies.put(shard.getKey(), shard.getValue().get());
            } catch (ExecutionException e) {
                failures.put(shard.getKey(), e.getCause() instanceof RuntimeException failure ? failure
                    : new RouterException(RouterException.Kind.SHARD_ERROR, "shard " + shard.getKey() + ": " + e.getCause(), e.getCause()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                running.values().forEach(future -> future.cancel(true));
                throw new RouterException(RouterException.Kind.RETRYABLE, name + ": interrupted while waiting for shard " + shard.getKey(), e);
            }
        }
        if (!failures.isEmpty()) {
            throw new ShardCommandException(name, replies, failures);
        }
        return replies;
    }

    /** Reads served from the cache so far (0 while the cache is off). */
    public long cacheHits() {
        return cache.hits();
    }

    private <T> T cached(String namespace, String operation, Scope scope, Object request, java.util.function.Supplier<T> read) {
        if (!cache.enabled()) {
            return read.get();
        }
        String key = namespace + "|" + operation + "|" + scope + "|" + request;
        T value = cache.get(namespace, key, read);
        if (value instanceof FindResult result && result.partial()) {
            cache.invalidate(namespace); // never keep an answer that misses shards
        }
        return value;
    }

    /**
     * Runs a read again, with fresher routing, when a shard it read says a range it read there has left at a routing
     * version this router had not applied: waits (up to the shard timeout) for that version, at most
     * {@value #STALE_ROUTING_ATTEMPTS} attempts in all; the last refusal reaches the caller as retryable.
     */
    private <T> java.util.function.Supplier<T> refreshing(java.util.function.Supplier<T> read) {
        return () -> {
            for (int attempt = 1; ; attempt++) {
                try {
                    return read.get();
                } catch (ReleasedRanges.StaleRouting stale) {
                    metrics.staleRouting();
                    if (attempt == STALE_ROUTING_ATTEMPTS) {
                        throw stale;
                    }
                    try {
                        state.awaitVersionAbove(stale.requiredVersion() - 1, config.shardTimeout().toMillis());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw stale;
                    }
                }
            }
        };
    }

    /** A pipeline is a list of stages, none of whose {@code $match} stages reaches outside the caller's tenant. */
    private void checkPipeline(Scope scope, List<Document> pipeline) {
        if (pipeline == null) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "pipeline: an array of stages is required");
        }
        RequestGuards.check("pipeline", pipeline);
        for (Document stage : pipeline) {
            if (stage.get("$match") instanceof Document match) {
                scoped(scope, match);
            }
        }
    }

    private Document scoped(Scope scope, Document filter) {
        Document given = filter == null ? new Document() : filter;
        return scope.isService() ? given : RequestGuards.scopeToTenant(config.tenantField(), scope.tenant(), given);
    }

    private NamespaceView view(String namespace) {
        return NamespaceView.of(state, namespace);
    }

    /** A write's view: the namespace's, with the durability the request asks for, if any. */
    private NamespaceView view(String namespace, Scope scope) {
        return view(namespace).withDurability(scope.durability());
    }

    private static String describe(KeyRange range) {
        return "[" + ShardTargets.describe(range.min()) + ", " + ShardTargets.describe(range.max()) + ")";
    }

    @Override
    public void close() throws InterruptedException {
        transactions.close();
        txnLog.close();
        if (invalidator != null) {
            invalidator.close();
        }
        signals.close();
        consumer.close();
        deadLetters.close();
        executor.shutdownNow();
        standbyAcks.close();
        clients.close();
    }
}
