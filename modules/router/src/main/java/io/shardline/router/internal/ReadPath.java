package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import org.bson.BsonDocument;
import org.bson.BsonDocumentReader;
import org.bson.BsonValue;
import org.bson.Document;
import org.bson.codecs.DecoderContext;
import org.bson.codecs.DocumentCodec;

import com.mongodb.MongoException;
import com.mongodb.client.FindIterable;
import com.mongodb.client.MongoCollection;

import io.shardline.router.api.FindRequest;
import io.shardline.router.api.FindResult;
import io.shardline.router.api.RouterException;

/**
 * Reads: a single-shard query goes straight to its shard with skip and limit as given; a multi-shard query runs on
 * every target shard in parallel with a timeout, each shard returning its top skip+limit, merged in sort order. A
 * target shard whose descriptor says DOWN is not asked ({@link ShardAvailability}): the read is refused at once, or,
 * when it allows a partial answer, answered without that shard, which is named among the missing.
 */
public final class ReadPath {

    private final ShardClients clients;
    private final ExecutorService executor;
    private final long timeoutMillis;
    private final RouterMetrics metrics;
    private final LoadCounter load;
    private final ReleasedRanges releases;
    private final ShardAvailability availability;

    public ReadPath(ShardClients clients, ExecutorService executor, long timeoutMillis, RouterMetrics metrics, LoadCounter load,
                    ReleasedRanges releases, ShardAvailability availability) {
        this.releases = releases;
        this.availability = availability;
        this.clients = clients;
        this.executor = executor;
        this.timeoutMillis = timeoutMillis;
        this.metrics = metrics;
        this.load = load;
    }

    public FindResult find(NamespaceView view, Document scopedFilter, FindRequest request) {
        ShardTargets targets = view.targets(scopedFilter);
        List<String> shards = targets.shards();
        DocumentOrder order = request.sort() == null || request.sort().isEmpty() ? null : new DocumentOrder(request.sort());
        List<String> sortPaths = order == null ? List.of() : order.paths();
        Projections.Plan projection = Projections.plan(request.projection(), sortPaths);
        Document shardProjection = projection.forShards();

        if (shards.size() == 1) {
            String shard = shards.get(0);
            availability.require("find", shards);
            load.read(shard, targets.chunksByShard().get(shard));
            List<Document> docs = new ArrayList<>();
            onShard(shard, () -> {
                metrics.timed(shard, "find", () -> find(view, shard, targets.scoped(shard, scopedFilter),
                    request, shardProjection, request.skip(), request.limit()).into(docs));
                releases.verify(view, shard, targets.chunksByShard().get(shard));
            });
            return new FindResult(new ArrayList<>(docs.stream().map(projection::finish).toList()), false, List.of(), shards);
        }

        int perShardLimit = request.limit() == 0 ? 0 : request.skip() + request.limit();
        Gathered<List<Document>> gathered = gather("find", view, targets, shard -> {
            List<Document> docs = new ArrayList<>();
            find(view, shard, targets.scoped(shard, scopedFilter), request, shardProjection, 0, perShardLimit).into(docs);
            return docs;
        }, request.allowPartial());

        List<Document> merged = order == null ? concat(gathered.results()) : mergeSorted(gathered.results(), order);
        int from = Math.min(request.skip(), merged.size());
        int to = request.limit() == 0 ? merged.size() : Math.min(merged.size(), from + request.limit());
        List<Document> page = new ArrayList<>(merged.subList(from, to).stream().map(projection::finish).toList());
        return new FindResult(page, !gathered.missing().isEmpty(), gathered.missing(), shards);
    }

    /**
     * Opens a find whose documents are read from the shards as the caller consumes them ({@link MergedFind}): each
     * target shard's cursor is opened in parallel (its first batch read), then checked against released ranges as
     * any read is.
     *
     * @param batchSize documents each shard returns per batch, 0 for the shard's default
     */
    public io.shardline.router.api.QueryCursor open(NamespaceView view, Document scopedFilter, FindRequest request, int batchSize) {
        ShardTargets targets = view.targets(scopedFilter);
        List<String> shards = targets.shards();
        DocumentOrder order = request.sort() == null || request.sort().isEmpty() ? null : new DocumentOrder(request.sort());
        Projections.Plan projection = Projections.plan(request.projection(), order == null ? List.of() : order.paths());
        boolean single = shards.size() == 1;
        int shardSkip = single ? request.skip() : 0;
        int shardLimit = single || request.limit() == 0 ? request.limit() : request.skip() + request.limit();
        List<com.mongodb.client.MongoCursor<Document>> all = new java.util.concurrent.CopyOnWriteArrayList<>();
        Function<String, com.mongodb.client.MongoCursor<Document>> openOn = shard -> {
            FindIterable<Document> find = find(view, shard, targets.scoped(shard, scopedFilter), request, projection.forShards(),
                shardSkip, shardLimit);
            if (batchSize > 0) {
                find.batchSize(shardLimit == 0 ? batchSize : Math.min(batchSize, shardLimit));
            }
            com.mongodb.client.MongoCursor<Document> cursor = find.cursor();
            all.add(cursor);
            return cursor;
        };
        if (single) {
            // One shard: opened on the caller's thread, as a single-shard find runs, with no hand-over to the pool.
            String shard = shards.get(0);
            availability.require("find", shards);
            load.read(shard, targets.chunksByShard().get(shard));
            Map<String, com.mongodb.client.MongoCursor<Document>> cursors = new LinkedHashMap<>();
            onShard(shard, () -> {
                cursors.put(shard, metrics.timed(shard, "find", () -> openOn.apply(shard)));
                try {
                    releases.verify(view, shard, targets.chunksByShard().get(shard));
                } catch (RuntimeException e) {
                    cursors.get(shard).close();
                    throw e;
                }
            });
            return new MergedFind(view, targets, cursors, order, projection, 0, 0, releases, clients, availability, List.of(),
                request.allowPartial());
        }
        Gathered<com.mongodb.client.MongoCursor<Document>> opened;
        try {
            opened = gather("find", view, targets, openOn, request.allowPartial());
        } catch (RuntimeException e) {
            all.forEach(com.mongodb.client.MongoCursor::close);
            throw e;
        }
        all.stream().filter(cursor -> !opened.results().containsValue(cursor)).forEach(com.mongodb.client.MongoCursor::close);
        return new MergedFind(view, targets, opened.results(), order, projection, request.skip(), request.limit(), releases, clients,
            availability, opened.missing(), request.allowPartial());
    }

    /**
     * Runs a pipeline: the shard part on every target shard (after the tenant-scoped, owned-range {@code $match}),
     * then the merge and the router part.
     *
     * @param tenantFilter the tenant predicate every shard applies first
     */
    public FindResult aggregate(NamespaceView view, Document tenantFilter, List<Document> pipeline, boolean allowPartial) {
        AggregationSplit split = AggregationSplit.of(pipeline);
        ShardTargets targets = view.targets(targeting(tenantFilter, split));
        Gathered<List<Document>> gathered = gather("aggregate", view, targets, shard -> {
            List<Document> stages = new ArrayList<>();
            stages.add(new Document("$match", targets.scoped(shard, tenantFilter)));
            stages.add(new Document("$project", new Document(ShardKeyField.NAME, 0).append(TxnIntents.FIELD, 0)));
            stages.addAll(split.shardStages());
            List<Document> docs = new ArrayList<>();
            collection(view, shard).aggregate(stages).into(docs);
            return docs;
        }, allowPartial);
        List<Document> merged;
        if (split.countField() != null) {
            Object total = Numbers.sum(gathered.results().values().stream()
                .flatMap(List::stream).map(d -> d.get(split.countField())).toList());
            merged = ((Number) total).longValue() == 0 ? List.of() : List.of(new Document(split.countField(), total));
        } else if (split.group() != null) {
            merged = split.group().combine(concat(gathered.results()));
        } else if (split.mergeSort() != null) {
            merged = mergeSorted(gathered.results(), new DocumentOrder(split.mergeSort()));
        } else {
            merged = concat(gathered.results());
        }
        List<Document> result = new ArrayList<>(RouterStages.apply(merged, split.routerStages()));
        return new FindResult(result, !gathered.missing().isEmpty(), gathered.missing(), targets.shards());
    }

    /**
     * The filter a pipeline targets shards with: the tenant predicate and the pipeline's leading {@code $match} stages.
     *
     * @throws RouterException BAD_REQUEST naming a stage the router cannot run
     */
    public static Document aggregationTargeting(Document tenantFilter, List<Document> pipeline) {
        return targeting(tenantFilter, AggregationSplit.of(pipeline));
    }

    private static Document targeting(Document tenantFilter, AggregationSplit split) {
        return split.targetingFilter().isEmpty() ? tenantFilter : new Document("$and", List.of(tenantFilter, split.targetingFilter()));
    }

    /**
     * The first document matching {@code scopedFilter} in {@code sort} order (any, unsorted) on {@code targets}, whole
     * and with its stored shard key: the candidate of a {@code findAndModify} that the filter does not confine to one
     * chunk. Each target shard returns its first, in parallel; the router takes the first of those.
     *
     * @return the document, or {@code null} when none matches
     */
    public Document first(NamespaceView view, ShardTargets targets, Document scopedFilter, Document sort) {
        if (targets.shards().isEmpty()) {
            return null;
        }
        FindRequest request = new FindRequest(scopedFilter, sort, 0, 1, null, false);
        Gathered<List<Document>> gathered = gather("findAndModify", view, targets, shard -> {
            List<Document> docs = new ArrayList<>(1);
            find(view, shard, targets.scoped(shard, scopedFilter), request, null, 0, 1).into(docs);
            return docs;
        }, false);
        List<Document> merged = sort == null || sort.isEmpty() ? concat(gathered.results())
            : mergeSorted(gathered.results(), new DocumentOrder(sort));
        return merged.isEmpty() ? null : merged.get(0);
    }

    /**
     * Every document matching {@code scopedFilter} on its owner, as stored (with its stored shard key and any
     * transaction's intent): what a transaction reads to learn what it holds and what others do.
     */
    public List<Document> stored(NamespaceView view, Document scopedFilter) {
        ShardTargets targets = view.targets(scopedFilter);
        Gathered<List<Document>> gathered = gather("find", view, targets,
            shard -> collection(view, shard).find(targets.scoped(shard, scopedFilter)).into(new ArrayList<>()), false);
        return concat(gathered.results());
    }

    public long count(NamespaceView view, Document scopedFilter, boolean allowPartial) {
        ShardTargets targets = view.targets(scopedFilter);
        Gathered<Long> gathered = gather("count", view, targets,
            shard -> collection(view, shard).countDocuments(targets.scoped(shard, scopedFilter)), allowPartial);
        return gathered.results().values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * The union of every target shard's distinct values, one value per MongoDB equality class ({@link DistinctValues});
     * each shard applies MongoDB's rules per document (null counts, a missing field does not, an array gives its elements).
     */
    public List<Object> distinct(NamespaceView view, String key, Document scopedFilter) {
        ShardTargets targets = view.targets(scopedFilter);
        Gathered<List<Object>> gathered = gather("distinct", view, targets, shard -> {
            List<Object> values = new ArrayList<>();
            for (BsonValue value : collection(view, shard).distinct(key, targets.scoped(shard, scopedFilter), BsonValue.class)) {
                values.add(toJava(value));
            }
            return values;
        }, false);
        DistinctValues union = new DistinctValues();
        gathered.results().values().forEach(values -> values.forEach(union::add));
        return union.values();
    }

    private FindIterable<Document> find(NamespaceView view, String shard, Document filter, FindRequest request,
                                        Document projection, int skip, int limit) {
        FindIterable<Document> find = collection(view, shard).find(filter).projection(projection).skip(skip).limit(limit);
        if (request.sort() != null && !request.sort().isEmpty()) {
            find.sort(request.sort());
        }
        return find;
    }

    private MongoCollection<Document> collection(NamespaceView view, String shard) {
        return clients.client(shard).getDatabase(view.database()).getCollection(view.collection());
    }

    private record Gathered<T>(Map<String, T> results, List<String> missing) {
    }

    /**
     * Runs a query on every target shard in parallel. A target that is DOWN is not asked: the read is refused at once,
     * before any shard is asked, or, with {@code allowPartial}, answered without it (it is among the missing, in target
     * order, with the shards that did not answer in time).
     */
    private <T> Gathered<T> gather(String operation, NamespaceView view, ShardTargets targets, Function<String, T> query, boolean allowPartial) {
        List<String> shards = targets.shards();
        boolean success = false;
        try {
            List<String> down = availability.down(shards);
            if (!down.isEmpty() && !allowPartial) {
                throw availability.refuse(operation, down);
            }
            down.forEach(availability::leftOut);
            Map<String, Future<T>> futures = new LinkedHashMap<>();
            for (String shard : shards) {
                if (down.contains(shard)) {
                    continue;
                }
                load.read(shard, targets.chunksByShard().get(shard));
                futures.put(shard, executor.submit(() -> {
                    T result = metrics.timed(shard, operation, () -> query.apply(shard));
                    releases.verify(view, shard, targets.chunksByShard().get(shard));
                    return result;
                }));
            }
            Gathered<T> answered = collect(futures, allowPartial);
            List<String> missing = shards.stream().filter(shard -> down.contains(shard) || answered.missing().contains(shard)).toList();
            success = missing.isEmpty();
            return new Gathered<>(answered.results(), missing);
        } finally {
            if (shards.size() > 1) {
                metrics.crossShard(shards.size(), success);
            }
        }
    }

    private <T> Gathered<T> collect(Map<String, Future<T>> futures, boolean allowPartial) {
        Map<String, T> results = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        for (Map.Entry<String, Future<T>> entry : futures.entrySet()) {
            try {
                results.put(entry.getKey(), entry.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (TimeoutException | ExecutionException e) {
                entry.getValue().cancel(true);
                // Stale routing is never a missing shard: the answer would be wrong, not partial.
                if (!allowPartial || e.getCause() instanceof ReleasedRanges.StaleRouting) {
                    futures.values().forEach(f -> f.cancel(true));
                    throw shardFailure(entry.getKey(), e);
                }
                missing.add(entry.getKey());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RouterException(RouterException.Kind.RETRYABLE, "interrupted while waiting for shards", e);
            }
        }
        return new Gathered<>(results, missing);
    }

    private void onShard(String shard, Runnable query) {
        try {
            query.run();
        } catch (MongoException e) {
            throw clients.failure(shard, e);
        } catch (IllegalStateException e) {
            throw ShardClients.closedUnderneath(e) ? clients.closed(shard, e) : e;
        }
    }

    private RouterException shardFailure(String shard, Exception e) {
        Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
        if (cause instanceof RouterException routerException) {
            return routerException;
        }
        if (e instanceof TimeoutException) {
            return new RouterException(RouterException.Kind.RETRYABLE, "shard " + shard + " did not answer in time", e);
        }
        if (cause instanceof MongoException mongo) {
            return clients.failure(shard, mongo);
        }
        if (ShardClients.closedUnderneath(cause)) {
            return clients.closed(shard, (IllegalStateException) cause);
        }
        return new RouterException(RouterException.Kind.SHARD_ERROR, "shard " + shard + " failed: " + cause.getMessage(), cause);
    }

    private static List<Document> concat(Map<String, List<Document>> results) {
        List<Document> all = new ArrayList<>();
        results.values().forEach(all::addAll);
        return all;
    }

    /** k-way merge of per-shard lists that are each sorted by {@code order}. */
    static List<Document> mergeSorted(Map<String, List<Document>> results, DocumentOrder order) {
        record Head(List<Document> list, int index) {
        }
        PriorityQueue<Head> heads = new PriorityQueue<>((a, b) -> order.compare(a.list().get(a.index()), b.list().get(b.index())));
        int total = 0;
        for (List<Document> list : results.values()) {
            if (!list.isEmpty()) {
                heads.add(new Head(list, 0));
                total += list.size();
            }
        }
        List<Document> merged = new ArrayList<>(total);
        while (!heads.isEmpty()) {
            Head head = heads.poll();
            merged.add(head.list().get(head.index()));
            if (head.index() + 1 < head.list().size()) {
                heads.add(new Head(head.list(), head.index() + 1));
            }
        }
        return merged;
    }

    /** A BSON value as the Java type the driver's {@code Document} would hold. */
    public static Object toJava(BsonValue value) {
        if (value == null || value.isNull()) {
            return null; // the driver decodes a BSON null among distinct values as no value at all
        }
        BsonDocument wrapper = new BsonDocument("v", value);
        return new DocumentCodec().decode(new BsonDocumentReader(wrapper), DecoderContext.builder().build()).get("v");
    }
}
