package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bson.Document;

import com.mongodb.MongoException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.result.DeleteResult;
import com.mongodb.client.result.UpdateResult;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.core.key.ShardKeyException;
import io.shardline.core.routing.Chunk;
import io.shardline.router.api.InsertOutcome;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.WriteResult;
import io.shardline.schemas.avro.ChunkState;

/**
 * Writes (an update already checked by {@link UpdateRules}, so it changes no document's tenant or shard key): each inserted document goes to the owner of its shard key's chunk, carrying its encoded key; updates and
 * deletes go to the shards their filter targets, restricted to the ranges those shards own. A write to a chunk
 * that is FENCED waits for the next routing version up to the fence budget, then fails as retryable; it never goes
 * to an owner the routing no longer names.
 */
public final class WritePath {

    /** Refreshes the view of a namespace, e.g. after a routing change. */
    public interface ViewSource {
        NamespaceView view();
    }

    private final ShardClients clients;
    private final RoutingState state;
    private final long fenceBudgetMillis;
    private final RouterMetrics metrics;
    private final LoadCounter load;
    private final java.util.function.BooleanSupplier leaseValid;
    private final InFlightWrites inFlight;
    private final AcknowledgedDocuments acknowledged;

    public WritePath(ShardClients clients, RoutingState state, long fenceBudgetMillis, RouterMetrics metrics, LoadCounter load,
                     java.util.function.BooleanSupplier leaseValid, InFlightWrites inFlight, AcknowledgedDocuments acknowledged) {
        this.acknowledged = acknowledged;
        this.clients = clients;
        this.state = state;
        this.fenceBudgetMillis = fenceBudgetMillis;
        this.metrics = metrics;
        this.load = load;
        this.leaseValid = leaseValid;
        this.inFlight = inFlight;
    }

    /** A router whose lease lapsed may be fenced out by a migration it cannot hear about: it takes no writes. */
    private void requireLease() {
        if (!leaseValid.getAsBoolean()) {
            throw new RouterException(RouterException.Kind.RETRYABLE,
                "this router's lease has expired (its acks are not reaching Kafka); it refuses writes until it renews it");
        }
    }

    public WriteResult insert(ViewSource views, List<Document> documents) {
        requireLease();
        try (InFlightWrites.Ticket ticket = inFlight.begin()) {
            return insert(views, documents, ticket);
        }
    }

    private WriteResult insert(ViewSource views, List<Document> documents, InFlightWrites.Ticket ticket) {
        NamespaceView view = views.view();
        Map<String, List<Document>> byShard = new LinkedHashMap<>();
        Map<String, List<Chunk>> chunksByShard = new LinkedHashMap<>();
        for (int i = 0; i < documents.size(); i++) {
            Document document = documents.get(i);
            ShardKey key = keyOf(view, document, i);
            Chunk chunk = writableChunk(views, key, ticket);
            document.put(ShardKeyField.NAME, key.toHex());
            byShard.computeIfAbsent(chunk.shardId(), s -> new ArrayList<>()).add(document);
            chunksByShard.computeIfAbsent(chunk.shardId(), s -> new ArrayList<>()).add(chunk);
            load.write(chunk.shardId(), List.of(chunk));
        }
        long inserted = 0;
        for (Map.Entry<String, List<Document>> entry : byShard.entrySet()) {
            List<Chunk> chunks = chunksByShard.get(entry.getKey());
            try {
                onShard(entry.getKey(), "insert", () -> collection(view, entry.getKey()).insertMany(entry.getValue(), new InsertManyOptions().ordered(true)));
            } catch (RuntimeException failed) {
                chunks.forEach(acknowledged::uncertain);
                throw failed;
            }
            chunks.forEach(chunk -> acknowledged.added(chunk, 1));
            inserted += entry.getValue().size();
        }
        documents.forEach(document -> document.remove(ShardKeyField.NAME));
        return new WriteResult(0, 0, inserted, 0, List.of(), List.copyOf(byShard.keySet()));
    }

    /**
     * Inserts documents as the statements of one {@code insert} command: statements going to one shard travel in one
     * {@code insertMany}; {@code ordered} keeps the statements' order across shards (consecutive statements for the
     * same shard form one run) and stops at the first failure; otherwise each shard gets all of its statements and
     * every statement is tried.
     *
     * @param documents the statements, {@code null} where a statement was already refused
     * @param refused   the statements already refused, by index
     */
    public InsertOutcome insertStatements(ViewSource views, List<Document> documents, boolean ordered,
                                          List<InsertOutcome.StatementError> refused) {
        requireLease();
        try (InFlightWrites.Ticket ticket = inFlight.begin()) {
            return insertStatements(views, documents, ordered, refused, ticket);
        }
    }

    /** One statement of an insert, with the chunk its shard key falls in. */
    private record Statement(int index, Document document, Chunk chunk) {
    }

    private InsertOutcome insertStatements(ViewSource views, List<Document> documents, boolean ordered,
                                           List<InsertOutcome.StatementError> refused, InFlightWrites.Ticket ticket) {
        NamespaceView view = views.view();
        List<InsertOutcome.StatementError> errors = new ArrayList<>(refused);
        int end = ordered && !refused.isEmpty() ? refused.get(0).index() : documents.size();
        List<Statement> statements = new ArrayList<>();
        for (int i = 0; i < end; i++) {
            Document document = documents.get(i);
            if (document == null) {
                continue;
            }
            try {
                ShardKey key = keyOf(view, document, i);
                Chunk chunk = writableChunk(views, key, ticket);
                document.put(ShardKeyField.NAME, key.toHex());
                statements.add(new Statement(i, document, chunk));
            } catch (RouterException e) {
                errors.add(new InsertOutcome.StatementError(i, e));
                if (ordered) {
                    break;
                }
            }
        }
        long inserted = 0;
        java.util.Set<String> written = new java.util.LinkedHashSet<>();
        try {
            for (List<Statement> group : groups(statements, ordered)) {
                String shard = group.get(0).chunk().shardId();
                written.add(shard);
                List<Chunk> chunks = group.stream().map(Statement::chunk).toList();
                load.write(shard, chunks);
                List<Document> batch = group.stream().map(Statement::document).toList();
                boolean failed = false;
                try {
                    onShard(shard, "insert", () -> collection(view, shard).insertMany(batch, new InsertManyOptions().ordered(ordered)));
                    chunks.forEach(chunk -> acknowledged.added(chunk, 1));
                    inserted += group.size();
                } catch (RouterException e) {
                    failed = true;
                    inserted += failedGroup(shard, group, ordered, e, errors);
                }
                if (failed && ordered) {
                    break;
                }
            }
        } finally {
            statements.forEach(statement -> statement.document().remove(ShardKeyField.NAME));
        }
        errors.sort(java.util.Comparator.comparingInt(InsertOutcome.StatementError::index));
        return new InsertOutcome(inserted, errors, List.copyOf(written));
    }

    /**
     * Accounts for a shard's failed {@code insertMany}: a bulk write error names the statements the shard refused
     * (the others were inserted, up to the first refusal when ordered); any other failure leaves the whole group
     * uncertain. Returns how many of the group were inserted.
     */
    private long failedGroup(String shard, List<Statement> group, boolean ordered, RouterException failure,
                             List<InsertOutcome.StatementError> errors) {
        if (!(failure.getCause() instanceof com.mongodb.MongoBulkWriteException bulk)) {
            group.forEach(statement -> acknowledged.uncertain(statement.chunk()));
            List<Statement> reported = ordered ? group.subList(0, 1) : group;
            reported.forEach(statement -> errors.add(new InsertOutcome.StatementError(statement.index(), failure)));
            return 0;
        }
        java.util.Set<Integer> refused = new java.util.HashSet<>();
        int firstRefused = group.size();
        for (com.mongodb.bulk.BulkWriteError error : bulk.getWriteErrors()) {
            refused.add(error.getIndex());
            firstRefused = Math.min(firstRefused, error.getIndex());
            errors.add(new InsertOutcome.StatementError(group.get(error.getIndex()).index(), new RouterException(
                RouterException.Kind.SHARD_ERROR, "shard " + shard + ": " + error.getMessage(),
                new MongoException(error.getCode(), error.getMessage()))));
        }
        long inserted = 0;
        for (int i = 0; i < group.size(); i++) {
            boolean done = ordered ? i < firstRefused : !refused.contains(i);
            if (done) {
                acknowledged.added(group.get(i).chunk(), 1);
                inserted++;
            }
        }
        return inserted;
    }

    /** Ordered: runs of consecutive statements for one shard, in order. Unordered: one group per shard. */
    private static List<List<Statement>> groups(List<Statement> statements, boolean ordered) {
        List<List<Statement>> groups = new ArrayList<>();
        Map<String, List<Statement>> byShard = new LinkedHashMap<>();
        for (Statement statement : statements) {
            if (ordered) {
                List<Statement> last = groups.isEmpty() ? null : groups.get(groups.size() - 1);
                if (last == null || !last.get(0).chunk().shardId().equals(statement.chunk().shardId())) {
                    last = new ArrayList<>();
                    groups.add(last);
                }
                last.add(statement);
            } else {
                byShard.computeIfAbsent(statement.chunk().shardId(), shard -> new ArrayList<>()).add(statement);
            }
        }
        return ordered ? groups : new ArrayList<>(byShard.values());
    }

    private static ShardKey keyOf(NamespaceView view, Document document, int index) {
        try {
            return view.strategy().keyOf(document);
        } catch (ShardKeyException e) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "documents[" + index + "]: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "documents[" + index + "]: shard key: " + e.getMessage(), e);
        }
    }

    public WriteResult update(ViewSource views, Document scopedFilter, Document update, boolean multi, boolean upsert) {
        requireLease();
        try (InFlightWrites.Ticket ticket = inFlight.begin()) {
            return update(views, scopedFilter, update, multi, upsert, ticket);
        }
    }

    private WriteResult update(ViewSource views, Document scopedFilter, Document update, boolean multi, boolean upsert,
                               InFlightWrites.Ticket ticket) {
        boolean replacement = update.keySet().stream().noneMatch(k -> k.startsWith("$"));
        if (upsert || replacement) {
            return pinned(views, scopedFilter, update, replacement, upsert, ticket);
        }
        return eachTargetShard(views, scopedFilter, multi, "update", ticket, (collection, filter) -> {
            UpdateResult result = multi ? collection.updateMany(filter, update) : collection.updateOne(filter, update);
            return new ShardWrite(result.getMatchedCount(), result.getModifiedCount());
        });
    }

    public WriteResult delete(ViewSource views, Document scopedFilter, boolean multi) {
        requireLease();
        try (InFlightWrites.Ticket ticket = inFlight.begin()) {
            return deleteEachChunk(views, scopedFilter, multi, ticket);
        }
    }

    /** What one shard did for a write. */
    private record ShardWrite(long matched, long modified) {
    }

    /** A namespace view and the targets of a filter in it. */
    private record Targeted(NamespaceView view, ShardTargets targets) {
    }

    /** The targets of a filter once none of its chunks is fenced. */
    private Targeted unfencedTargets(ViewSource views, Document scopedFilter, InFlightWrites.Ticket ticket) {
        NamespaceView view = views.view();
        ShardTargets targets = view.targets(scopedFilter);
        while (awaitUnfenced(views, targets.chunks(), ticket)) {
            // The routing changed while this write waited (e.g. a cutover): target the shards it names now.
            view = views.view();
            targets = view.targets(scopedFilter);
        }
        return new Targeted(view, targets);
    }

    /**
     * Runs a filtered write on every shard the filter targets, each within the ranges it owns; a single-document
     * write ({@code multi == false}) stops at the first shard that matched.
     */
    private WriteResult eachTargetShard(ViewSource views, Document scopedFilter, boolean multi, String operation, InFlightWrites.Ticket ticket,
                                        java.util.function.BiFunction<MongoCollection<Document>, Document, ShardWrite> write) {
        Targeted targeted = unfencedTargets(views, scopedFilter, ticket);
        NamespaceView view = targeted.view();
        ShardTargets targets = targeted.targets();
        long matched = 0;
        long modified = 0;
        List<String> written = new ArrayList<>();
        for (String shard : targets.shards()) {
            MongoCollection<Document> collection = collection(view, shard);
            Document filter = targets.scoped(shard, scopedFilter);
            load.write(shard, targets.chunksByShard().get(shard));
            ShardWrite result = onShard(shard, operation, () -> write.apply(collection, filter));
            matched += result.matched();
            modified += result.modified();
            written.add(shard);
            if (!multi && result.matched() > 0) {
                break;
            }
        }
        return new WriteResult(matched, modified, 0, 0, List.of(), written);
    }

    /**
     * A delete on every chunk the filter targets, one chunk at a time on shards with several, so that each deleted
     * count belongs to one chunk ({@link AcknowledgedDocuments}); a single-document delete stops at the first match.
     */
    private WriteResult deleteEachChunk(ViewSource views, Document scopedFilter, boolean multi, InFlightWrites.Ticket ticket) {
        Targeted targeted = unfencedTargets(views, scopedFilter, ticket);
        NamespaceView view = targeted.view();
        ShardTargets targets = targeted.targets();
        long deleted = 0;
        List<String> written = new ArrayList<>();
        for (String shard : targets.shards()) {
            MongoCollection<Document> collection = collection(view, shard);
            load.write(shard, targets.chunksByShard().get(shard));
            written.add(shard);
            for (Chunk chunk : targets.chunksByShard().get(shard)) {
                Document filter = targets.scopedToChunk(shard, chunk, scopedFilter);
                DeleteResult result;
                try {
                    result = onShard(shard, "delete", () -> multi ? collection.deleteMany(filter) : collection.deleteOne(filter));
                } catch (RuntimeException failed) {
                    acknowledged.uncertain(chunk);
                    throw failed;
                }
                acknowledged.removed(chunk, result.getDeletedCount());
                deleted += result.getDeletedCount();
                if (!multi && deleted > 0) {
                    return new WriteResult(0, 0, 0, deleted, List.of(), written);
                }
            }
        }
        return new WriteResult(0, 0, 0, deleted, List.of(), written);
    }

    /**
     * A replacement or an upsert: the document's shard key must be pinned by equality in the filter (or, for a
     * replacement, carried by the replacement), so exactly one chunk can hold it.
     */
    private WriteResult pinned(ViewSource views, Document scopedFilter, Document update, boolean replacement, boolean upsert,
                               InFlightWrites.Ticket ticket) {
        NamespaceView view = views.view();
        Document keySource = UpdateRules.equalities(scopedFilter);
        if (replacement) {
            keySource.putAll(update);
        }
        ShardKey key;
        try {
            key = view.strategy().keyOf(keySource);
        } catch (IllegalArgumentException e) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, (replacement ? "update" : "filter")
                + ": an upsert or replacement needs every shard-key field " + view.strategy().fields()
                + " fixed by equality: " + e.getMessage(), e);
        }
        Chunk chunk = writableChunk(views, key, ticket);
        load.write(chunk.shardId(), List.of(chunk));
        Document filter = new Document("$and", List.of(new Document(ShardKeyField.NAME, key.toHex()), scopedFilter));
        MongoCollection<Document> collection = collection(view, chunk.shardId());
        UpdateResult result;
        try {
            result = upsertOrReplace(collection, filter, update, key, scopedFilter, replacement, upsert, chunk);
        } catch (RuntimeException failed) {
            if (upsert) {
                acknowledged.uncertain(chunk);
            }
            throw failed;
        }
        if (result.getUpsertedId() != null) {
            acknowledged.added(chunk, 1);
        }
        List<Object> upserted = result.getUpsertedId() == null ? List.of() : List.of(result.getUpsertedId());
        return new WriteResult(result.getMatchedCount(), result.getModifiedCount(), 0, 0, upserted, List.of(chunk.shardId()));
    }

    private UpdateResult upsertOrReplace(MongoCollection<Document> collection, Document filter, Document update, ShardKey key,
                                         Document scopedFilter, boolean replacement, boolean upsert, Chunk chunk) {
        UpdateResult result;
        if (replacement) {
            Document replacementDoc = new Document(update);
            replacementDoc.put(ShardKeyField.NAME, key.toHex());
            result = onShard(chunk.shardId(), "update", () -> collection.replaceOne(filter, replacementDoc, new ReplaceOptions().upsert(upsert)));
        } else {
            Document withKey = new Document(update);
            Document setOnInsert = new Document(update.get("$setOnInsert") instanceof Document s ? s : new Document());
            setOnInsert.put(ShardKeyField.NAME, key.toHex());
            UpdateRules.equalities(scopedFilter).forEach((field, value) -> {
                if (!field.startsWith("$") && !touchedBy(update, field)) {
                    setOnInsert.putIfAbsent(field, value);
                }
            });
            withKey.put("$setOnInsert", setOnInsert);
            result = onShard(chunk.shardId(), "update", () -> collection.updateOne(filter, withKey, new UpdateOptions().upsert(upsert)));
        }
        return result;
    }

    private Chunk writableChunk(ViewSource views, ShardKey key, InFlightWrites.Ticket ticket) {
        long deadline = System.currentTimeMillis() + fenceBudgetMillis;
        Chunk chunk = views.view().routing().chunkFor(key);
        while (chunk.state() == ChunkState.FENCED) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                throw fenced(chunk);
            }
            long seen = state.version();
            ticket.release();
            awaitNewVersion(seen, left);
            ticket.renew();
            chunk = views.view().routing().chunkFor(key);
        }
        return chunk;
    }

    /** Waits until none of the chunks is fenced; true if it had to wait (the caller then targets again). */
    private boolean awaitUnfenced(ViewSource views, List<Chunk> chunks, InFlightWrites.Ticket ticket) {
        long deadline = System.currentTimeMillis() + fenceBudgetMillis;
        List<Chunk> current = chunks;
        boolean waited = false;
        while (true) {
            Chunk fenced = current.stream().filter(c -> c.state() == ChunkState.FENCED).findFirst().orElse(null);
            if (fenced == null) {
                return waited;
            }
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                throw fenced(fenced);
            }
            long seen = state.version();
            ticket.release();
            awaitNewVersion(seen, left);
            ticket.renew();
            waited = true;
            NamespaceView refreshed = views.view();
            List<Chunk> next = new ArrayList<>();
            for (Chunk chunk : current) {
                next.addAll(refreshed.routing().chunksFor(new KeyRange(chunk.min(), chunk.max())));
            }
            current = next;
        }
    }

    private void awaitNewVersion(long seen, long timeoutMillis) {
        try {
            state.awaitVersionAbove(seen, timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RouterException(RouterException.Kind.RETRYABLE, "interrupted while waiting for a fenced chunk", e);
        }
    }

    private static RouterException fenced(Chunk chunk) {
        return new RouterException(RouterException.Kind.RETRYABLE, "chunk " + chunk.range() + " of " + chunk.namespace()
            + " is fenced for migration " + chunk.migrationId() + "; retry");
    }

    private static boolean touchedBy(Document update, String field) {
        return update.values().stream().anyMatch(v -> v instanceof Document fields && fields.containsKey(field));
    }

    private MongoCollection<Document> collection(NamespaceView view, String shard) {
        return clients.client(shard).getDatabase(view.database()).getCollection(view.collection());
    }

    private <T> T onShard(String shard, String operation, java.util.function.Supplier<T> write) {
        // Checked again right before the shard is written: a router paused since the write began may have been left
        // out of a fence whose cutover moved this range away.
        requireLease();
        try {
            return metrics.timed(shard, operation, write);
        } catch (MongoException e) {
            throw new RouterException(RouterException.Kind.SHARD_ERROR, "shard " + shard + " failed: " + e.getMessage(), e);
        } catch (org.bson.BsonInvalidOperationException unreadable) {
            throw new RouterException(RouterException.Kind.SHARD_ERROR, "shard " + shard + " answered the " + operation
                + " with a reply the driver cannot read: " + unreadable.getMessage(), unreadable);
        }
    }
}
