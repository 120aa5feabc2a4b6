package io.shardline.router;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import org.bson.Document;
import org.bson.types.ObjectId;

import io.shardline.core.key.KeyRange;
import io.shardline.router.api.Explain;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.FindResult;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.WriteResult;
import io.shardline.router.internal.AcknowledgedDocuments;
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
import io.shardline.router.internal.RoutingStateConsumer;
import io.shardline.router.internal.ShardClients;
import io.shardline.router.internal.ShardTargets;
import io.shardline.router.internal.TargetPlan;
import io.shardline.router.internal.UpdateRules;
import io.shardline.router.internal.WritePath;
import io.shardline.schemas.DeadLetterProducer;

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
    private final ExecutorService executor;
    private final ReadPath reads;
    private final WritePath writes;
    private final InFlightWrites inFlight;
    private final RouterMetrics metrics;
    private final RouterSignals signals;
    private final ReadCache cache;
    private final CdcInvalidator invalidator;

    private ShardRouter(RouterConfig config, MeterRegistry registry) {
        this.config = config;
        RouterMetrics metrics = new RouterMetrics(registry);
        this.metrics = metrics;
        this.deadLetters = new DeadLetterProducer(config.bootstrapServers(), config.catalog().controlDlq().name(), "router:" + config.routerId());
        this.consumer = new RoutingStateConsumer(config.bootstrapServers(), config.catalog(), state, deadLetters);
        this.clients = new ShardClients(state, config.shardTimeout().toMillis(), metrics);
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
        ReleasedRanges releases = new ReleasedRanges(clients,
            () -> config.releaseCheck() == RouterConfig.ReleaseCheck.EVERY_READ || !signals.leaseValid());
        this.reads = new ReadPath(clients, executor, config.shardTimeout().toMillis(), metrics, load, releases);
        this.writes = new WritePath(clients, state, config.fenceBudget().toMillis(), metrics, load, signals::leaseValid, inFlight, acknowledged);
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

    public String routerId() {
        return config.routerId();
    }

    public MeterRegistry meterRegistry() {
        return metrics.registry();
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
        RequestGuards.check("filter", request.filter());
        RequestGuards.check("projection", request.projection());
        RequestGuards.check("sort", request.sort());
        Document scoped = scoped(tenant, request.filter());
        awaitFreshRouting();
        return cached(namespace, "find", tenant, request, refreshing(() -> reads.find(view(namespace), scoped, request)));
    }

    /**
     * Runs an aggregation pipeline of {@code $match}, {@code $project}, {@code $sort}, {@code $skip}, {@code $limit},
     * {@code $group} ({@code $sum $count $min $max $avg $first $last}) and {@code $count} stages: partially on the
     * shards, finished at the router.
     */
    public FindResult aggregate(String tenant, String namespace, List<Document> pipeline, boolean allowPartial) {
        if (pipeline == null) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "pipeline: an array of stages is required");
        }
        RequestGuards.check("pipeline", pipeline);
        for (Document stage : pipeline) {
            if (stage.get("$match") instanceof Document match) {
                scoped(tenant, match);
            }
        }
        Document tenantFilter = scoped(tenant, new Document());
        awaitFreshRouting();
        return cached(namespace, "aggregate", tenant, List.of(pipeline, allowPartial),
            refreshing(() -> reads.aggregate(view(namespace), tenantFilter, pipeline, allowPartial)));
    }

    public long count(String tenant, String namespace, Document filter, boolean allowPartial) {
        RequestGuards.check("filter", filter);
        Document scoped = scoped(tenant, filter);
        awaitFreshRouting();
        return cached(namespace, "count", tenant, List.of(scoped, allowPartial), refreshing(() -> reads.count(view(namespace), scoped, allowPartial)));
    }

    public List<Object> distinct(String tenant, String namespace, String key, Document filter) {
        if (key == null || key.isBlank() || key.startsWith("$")) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "key: a field name is required, was '" + key + "'");
        }
        RequestGuards.check("key", new Document(key, 1));
        RequestGuards.check("filter", filter);
        Document scoped = scoped(tenant, filter);
        awaitFreshRouting();
        return cached(namespace, "distinct", tenant, List.of(key, scoped), refreshing(() -> reads.distinct(view(namespace), key, scoped)));
    }

    public WriteResult insert(String tenant, String namespace, List<Document> documents) {
        if (documents == null || documents.isEmpty()) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "documents: at least one document is required");
        }
        List<Document> scoped = new ArrayList<>(documents.size());
        for (int i = 0; i < documents.size(); i++) {
            Document document = documents.get(i);
            RequestGuards.check("documents[" + i + "]", document);
            RequestGuards.rejectTooLarge("documents[" + i + "]", document);
            Object owner = document.get(config.tenantField());
            if (owner != null && !tenant.equals(owner)) {
                throw new RouterException(RouterException.Kind.FORBIDDEN, "documents[" + i + "]." + config.tenantField()
                    + " is '" + owner + "', not the caller's tenant '" + tenant + "'");
            }
            Document copy = new Document(document);
            copy.put(config.tenantField(), tenant);
            // As the MongoDB driver does on insert; here before the shard key is computed, since it may include _id.
            copy.putIfAbsent("_id", new ObjectId());
            scoped.add(copy);
        }
        try {
            return writes.insert(() -> view(namespace), scoped);
        } finally {
            cache.invalidate(namespace);
        }
    }

    public WriteResult update(String tenant, String namespace, Document filter, Document update, boolean multi, boolean upsert) {
        if (update == null || update.isEmpty()) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "update: an update document is required");
        }
        RequestGuards.check("filter", filter);
        RequestGuards.check("update", update);
        RequestGuards.rejectTooLarge("update", update);
        Object owner = update.get(config.tenantField());
        if (owner != null && !tenant.equals(owner)) {
            throw new RouterException(RouterException.Kind.FORBIDDEN, "update." + config.tenantField() + " names another tenant");
        }
        Document scopedUpdate = update;
        if (update.keySet().stream().noneMatch(k -> k.startsWith("$"))) {
            scopedUpdate = new Document(update);
            scopedUpdate.put(config.tenantField(), tenant);
        }
        Document scopedFilter = scoped(tenant, filter);
        Document checked = new UpdateRules(config.tenantField(), view(namespace).strategy().fields()).check(scopedFilter, scopedUpdate, upsert);
        try {
            return writes.update(() -> view(namespace), scopedFilter, checked, multi, upsert);
        } finally {
            cache.invalidate(namespace);
        }
    }

    public WriteResult delete(String tenant, String namespace, Document filter, boolean multi) {
        RequestGuards.check("filter", filter);
        try {
            return writes.delete(() -> view(namespace), scoped(tenant, filter), multi);
        } finally {
            cache.invalidate(namespace);
        }
    }

    /** Which shards and chunks a filter targets, and why. */
    public Explain explain(String tenant, String namespace, Document filter) {
        RequestGuards.check("filter", filter);
        NamespaceView view = view(namespace);
        Document scoped = scoped(tenant, filter);
        TargetPlan plan = view.plan(scoped);
        ShardTargets targets = ShardTargets.of(view.routing(), plan);
        List<String> ranges = plan.ranges().stream().map(ShardRouter::describe).toList();
        List<String> chunks = targets.chunks().stream().map(c -> describe(c.range()) + "@" + c.shardId() + " v" + c.version()).toList();
        return new Explain(namespace, plan.isAll(), plan.reason(), ranges, chunks, targets.shards(), state.version());
    }

    /** Reads served from the cache so far (0 while the cache is off). */
    public long cacheHits() {
        return cache.hits();
    }

    private <T> T cached(String namespace, String operation, String tenant, Object request, java.util.function.Supplier<T> read) {
        if (!cache.enabled()) {
            return read.get();
        }
        String key = namespace + "|" + operation + "|" + tenant + "|" + request;
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

    private Document scoped(String tenant, Document filter) {
        if (tenant == null || tenant.isBlank()) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "tenant: every request needs the caller's tenant");
        }
        return RequestGuards.scopeToTenant(config.tenantField(), tenant, filter == null ? new Document() : filter);
    }

    private NamespaceView view(String namespace) {
        return NamespaceView.of(state, namespace);
    }

    private static String describe(KeyRange range) {
        return "[" + ShardTargets.describe(range.min()) + ", " + ShardTargets.describe(range.max()) + ")";
    }

    @Override
    public void close() throws InterruptedException {
        if (invalidator != null) {
            invalidator.close();
        }
        signals.close();
        consumer.close();
        deadLetters.close();
        executor.shutdownNow();
        clients.close();
    }
}
