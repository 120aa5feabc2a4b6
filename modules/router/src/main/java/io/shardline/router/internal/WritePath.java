package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bson.Document;
import org.bson.types.ObjectId;

import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoException;
import com.mongodb.MongoWriteException;
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
import io.shardline.router.api.FindAndModifyRequest;
import io.shardline.router.api.FindAndModifyResult;
import io.shardline.router.api.InsertOutcome;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.WriteResult;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.WriteDurability;

/**
 * Writes (an update already checked by {@link UpdateRules}, so it changes no document's tenant or shard key): each inserted document goes to the owner of its shard key's chunk, carrying its encoded key; updates and
 * deletes go to the shards their filter targets, restricted to the ranges those shards own. A write to a chunk
 * that is FENCED waits for the next routing version up to the fence budget, then fails as retryable; it never goes
 * to an owner the routing no longer names. A write any of whose target shards is DOWN is refused whole, before anything
 * of it is sent ({@link ShardAvailability}). A write with durability STANDBY is acknowledged once each shard's standby
 * has what the write changed there ({@link StandbyAcks}).
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
    private final RouterLease lease;
    private final InFlightWrites inFlight;
    private final AcknowledgedDocuments acknowledged;
    private final long raceBudgetMillis;
    private final ShardAvailability availability;
    private final StandbyAcks standbyAcks;
    private final OperationTimes operationTimes;

    /**
     * @param raceBudgetMillis how long a {@code findAndModify} whose filter spans several chunks keeps trying when the
     *                         document it found first is changed by another write before it modifies it
     */
    public WritePath(ShardClients clients, RoutingState state, long fenceBudgetMillis, RouterMetrics metrics, LoadCounter load,
                     RouterLease lease, InFlightWrites inFlight, AcknowledgedDocuments acknowledged,
                     long raceBudgetMillis, ShardAvailability availability, StandbyAcks standbyAcks) {
        this.availability = availability;
        this.standbyAcks = standbyAcks;
        this.operationTimes = clients.operationTimes();
        this.acknowledged = acknowledged;
        this.raceBudgetMillis = raceBudgetMillis;
        this.clients = clients;
        this.state = state;
        this.fenceBudgetMillis = fenceBudgetMillis;
        this.metrics = metrics;
        this.load = load;
        this.lease = lease;
        this.inFlight = inFlight;
    }

    /**
     * A write answered after the lease broke (ran out, whether renewed since or not) may have landed on a shard after a
     * migration this router did not acknowledge cut its range over: the range deletion that follows would remove it.
     * It is not acknowledged: its outcome is unknown.
     */
    private void requireUnbrokenLease(String shard, String operation, long lapsesBefore) {
        boolean valid = lease.leaseValid();
        if (!valid || lease.leaseLapses() != lapsesBefore) {
            throw new RouterException(RouterException.Kind.LEASE_LAPSED, "the " + operation + " was sent to shard " + shard
                + ", but this router's lease ran out before the shard answered (the router was paused, or its acks did not reach Kafka): "
                + "a migration may have moved the range meanwhile, so the write is not acknowledged and may or may not be kept");
        }
    }

    /** A router whose lease lapsed may be fenced out by a migration it cannot hear about: it takes no writes. */
    private void requireLease() {
        if (!lease.leaseValid()) {
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
        }
        availability.require("insert", byShard.keySet());
        chunksByShard.forEach((shard, chunks) -> chunks.forEach(chunk -> load.write(shard, List.of(chunk))));
        long inserted = 0;
        for (Map.Entry<String, List<Document>> entry : byShard.entrySet()) {
            List<Chunk> chunks = chunksByShard.get(entry.getKey());
            try {
                onShard(view, entry.getKey(), "insert", () -> collection(view, entry.getKey()).insertMany(entry.getValue(), new InsertManyOptions().ordered(true)));
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
            availability.require("insert", statements.stream().map(statement -> statement.chunk().shardId()).toList());
            for (List<Statement> group : groups(statements, ordered)) {
                String shard = group.get(0).chunk().shardId();
                written.add(shard);
                List<Chunk> chunks = group.stream().map(Statement::chunk).toList();
                load.write(shard, chunks);
                List<Document> batch = group.stream().map(Statement::document).toList();
                boolean failed = false;
                try {
                    onShard(view, shard, "insert", () -> collection(view, shard).insertMany(batch, new InsertManyOptions().ordered(ordered)));
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
            // Applied on the shard but not confirmed by its standby: every statement of the group is in that state,
            // not only the first, which an ordered write would otherwise report alone as if the rest never ran.
            boolean applied = failure.kind() == RouterException.Kind.STANDBY_UNCONFIRMED || failure.kind() == RouterException.Kind.LEASE_LAPSED;
            List<Statement> reported = ordered && !applied ? group.subList(0, 1) : group;
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

    /** Reads the first document matching a filter on given targets, whole with its stored shard key ({@link ReadPath#first}). */
    public interface FirstMatch {
        Document first(NamespaceView view, ShardTargets targets, Document scopedFilter, Document sort);
    }

    /**
     * A {@code findAndModify}, its update already checked by {@link UpdateRules} against {@code request}'s filter (which
     * is scoped to the caller): one document at most is removed, updated or inserted, and the document answered is the
     * one this call modified.
     *
     * <ul>
     * <li>A filter confined to one chunk runs on its owner as one {@code findAndModify}, which picks the document and
     * modifies it atomically. So does an upsert with update operators, whose filter fixes the shard key.</li>
     * <li>Otherwise the router reads the first matching document in sort order across the target shards (each returns
     * its first), then modifies it on the owner of its chunk with a filter that pins its {@code _id} and stored shard key
     * and still holds the request's filter. When that matches nothing (another write changed or removed the document in
     * between) it reads again, for up to the race budget, then fails as retryable: nothing was modified.</li>
     * <li>A replacement keeps the tenant and shard-key fields of the document it replaces ({@link UpdateRules#keepStored}),
     * so it always knows that document first. With an upsert, the key the filter and replacement fix names the one chunk
     * read; when nothing matches there, the replacement is inserted by an upsert that pins the new {@code _id}, and a
     * duplicate key (a document that appeared in between) makes it read once more.</li>
     * </ul>
     *
     * @param rules the namespace's update rules, for replacements
     * @param reads reads the first matching document on the target shards
     */
    public FindAndModifyResult findAndModify(ViewSource views, FindAndModifyRequest request, UpdateRules rules, FirstMatch reads) {
        Projections.Plan projection = Projections.plan(request.fields(), List.of());
        requireLease();
        try (InFlightWrites.Ticket ticket = inFlight.begin()) {
            if (request.upsert() && !request.replacement()) {
                return upsertOperators(views, request, projection, ticket);
            }
            return firstMatching(views, request, projection, rules, reads, ticket);
        }
    }

    /**
     * Updates the one document {@code scopedFilter} pins (by {@code _id} and shard key) on its owner and answers it as
     * stored after the update, its transaction intent included, or {@code null} when none matched: a transaction's own
     * writes to the documents it holds.
     */
    Document modifyStored(ViewSource views, Document scopedFilter, Document update) {
        requireLease();
        try (InFlightWrites.Ticket ticket = inFlight.begin()) {
            FindAndModifyRequest request = new FindAndModifyRequest(scopedFilter, null, update, false, true, null, false);
            Targeted targeted = unfencedTargets(views, scopedFilter, ticket);
            if (targeted.targets().chunks().isEmpty()) {
                return null;
            }
            if (targeted.targets().chunks().size() != 1) {
                throw new IllegalArgumentException("a transaction's write names one document by its _id and shard key: " + scopedFilter);
            }
            return onOneChunk(targeted.view(), targeted.targets(), request, Projections.withIntents()).document();
        }
    }

    /** What a shard's {@code findAndModify} answered; {@code reported} is false when it gave no {@code lastErrorObject}. */
    private record Modified(Document value, long n, boolean updatedExisting, Object upsertedId, boolean reported) {

        /** @param remove whether the command removed: without a {@code lastErrorObject}, a document answered was matched */
        static Modified of(Document reply, boolean remove) {
            Document value = reply.get("value") instanceof Document document ? document : null;
            if (!(reply.get("lastErrorObject") instanceof Document last)) {
                long n = value == null ? 0 : 1;
                return new Modified(value, n, !remove && n == 1, null, false);
            }
            long n = last.get("n") instanceof Number number ? number.longValue() : 0;
            return new Modified(value, n, Boolean.TRUE.equals(last.get("updatedExisting")), last.get("upserted"), true);
        }

        FindAndModifyResult result(Projections.Plan projection, String shard) {
            return new FindAndModifyResult(value == null ? null : projection.finish(value), n, updatedExisting, upsertedId, List.of(shard));
        }
    }

    private FindAndModifyResult upsertOperators(ViewSource views, FindAndModifyRequest request, Projections.Plan projection,
                                                InFlightWrites.Ticket ticket) {
        NamespaceView view = views.view();
        ShardKey key = pinnedKey(view, request.filter(), null);
        Chunk chunk = writableChunk(views, key, ticket);
        availability.require("findAndModify", List.of(chunk.shardId()));
        load.write(chunk.shardId(), List.of(chunk));
        Document filter = new Document("$and", List.of(new Document(ShardKeyField.NAME, key.toHex()), request.filter()));
        Document command = command(view, filter, request.sort(), withKeyOnInsert(request.update(), key, request.filter()), request,
            projection, true);
        Modified modified = findAndModifyOn(view, chunk.shardId(), chunk, command, false, failed -> true);
        if (!modified.reported()) {
            acknowledged.uncertain(chunk);
        } else if (modified.upsertedId() != null) {
            acknowledged.added(chunk, 1);
        }
        return modified.result(projection, chunk.shardId());
    }

    private FindAndModifyResult firstMatching(ViewSource views, FindAndModifyRequest request, Projections.Plan projection,
                                              UpdateRules rules, FirstMatch reads, InFlightWrites.Ticket ticket) {
        long deadline = System.currentTimeMillis() + raceBudgetMillis;
        ShardKey upsertKey = request.upsert() ? pinnedKey(views.view(), request.filter(), request.update()) : null;
        boolean duplicateSeen = false;
        for (int attempt = 1; ; attempt++) {
            NamespaceView view;
            ShardTargets targets;
            Document filter;
            if (upsertKey != null) {
                Chunk chunk = writableChunk(views, upsertKey, ticket);
                availability.require("findAndModify", List.of(chunk.shardId()));
                view = views.view();
                targets = new ShardTargets(Map.of(chunk.shardId(), List.of(chunk)), List.of(chunk.range()));
                filter = new Document("$and", List.of(new Document(ShardKeyField.NAME, upsertKey.toHex()), request.filter()));
            } else {
                Targeted targeted = unfencedTargets(views, request.filter(), ticket);
                view = targeted.view();
                targets = targeted.targets();
                filter = request.filter();
                if (targets.chunks().isEmpty()) {
                    return FindAndModifyResult.none(List.of());
                }
                if (targets.chunks().size() == 1 && !request.replacement()) {
                    return onOneChunk(view, targets, request, projection);
                }
            }
            Document candidate = reads.first(view, targets, filter, request.sort());
            FindAndModifyResult done;
            if (candidate != null) {
                done = modifyCandidate(views, request, candidate, projection, rules, ticket);
            } else if (upsertKey == null) {
                return FindAndModifyResult.none(targets.shards());
            } else {
                try {
                    done = insertReplacement(view, targets.chunks().get(0), upsertKey, request, projection, rules);
                } catch (RouterException e) {
                    if (duplicateSeen || !duplicateKey(e)) {
                        throw e;
                    }
                    duplicateSeen = true;
                    done = null;
                }
            }
            if (done != null) {
                return done;
            }
            if (System.currentTimeMillis() >= deadline) {
                throw new RouterException(RouterException.Kind.RETRYABLE, "findAndModify: the first document matching the filter was "
                    + "changed by other writes before this one could modify it, " + attempt + " times in " + raceBudgetMillis
                    + " ms; nothing was modified; retry");
            }
        }
    }

    /** A filter confined to one chunk: its owner picks and modifies the document in one {@code findAndModify}. */
    private FindAndModifyResult onOneChunk(NamespaceView view, ShardTargets targets, FindAndModifyRequest request,
                                           Projections.Plan projection) {
        Chunk chunk = targets.chunks().get(0);
        String shard = chunk.shardId();
        availability.require("findAndModify", List.of(shard));
        load.write(shard, List.of(chunk));
        Document command = command(view, targets.scoped(shard, request.filter()), request.sort(), request.update(), request, projection,
            false);
        Modified modified = findAndModifyOn(view, shard, chunk, command, request.remove(), failed -> request.remove());
        if (request.remove() && modified.n() > 0) {
            acknowledged.removed(chunk, modified.n());
        }
        return modified.result(projection, shard);
    }

    /**
     * Runs a {@code findAndModify} on a shard. A failure that may have removed or inserted a document
     * ({@code leavesUncertain}) leaves its chunk's acknowledged count uncertain.
     */
    private Modified findAndModifyOn(NamespaceView view, String shard, Chunk chunk, Document command, boolean remove,
                                     java.util.function.Predicate<RuntimeException> leavesUncertain) {
        try {
            return Modified.of(onShard(view, shard, "findAndModify", () -> runCommand(view, shard, command)), remove);
        } catch (RuntimeException failed) {
            if (leavesUncertain.test(failed)) {
                acknowledged.uncertain(chunk);
            }
            throw failed;
        }
    }

    /**
     * Modifies the document read first, on the owner of its chunk, if it still matches the filter: pinned by its
     * {@code _id} and stored shard key. Returns {@code null} when it no longer matches (nothing was modified).
     */
    private FindAndModifyResult modifyCandidate(ViewSource views, FindAndModifyRequest request, Document candidate,
                                                Projections.Plan projection, UpdateRules rules, InFlightWrites.Ticket ticket) {
        if (!(candidate.get(ShardKeyField.NAME) instanceof String storedKey)) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "findAndModify: the first matching document (_id "
                + candidate.get("_id") + ") has no stored shard key '" + ShardKeyField.NAME + "': it was not written through a "
                + "router, and cannot be modified without one");
        }
        ShardKey key = ShardKey.ofHex(storedKey);
        Chunk chunk = writableChunk(views, key, ticket);
        NamespaceView view = views.view();
        String shard = chunk.shardId();
        availability.require("findAndModify", List.of(shard));
        load.write(shard, List.of(chunk));
        Document pinned = new Document("$and", List.of(new Document("_id", candidate.get("_id")).append(ShardKeyField.NAME, storedKey),
            request.filter()));
        Document update = request.update();
        if (request.replacement()) {
            update = rules.keepStored(request.update(), candidate);
            update.put(ShardKeyField.NAME, storedKey);
        }
        Document command = command(view, pinned, null, update, request, projection, false);
        Modified modified = findAndModifyOn(view, shard, chunk, command, request.remove(), failed -> request.remove());
        if (modified.n() == 0) {
            return null;
        }
        if (request.remove()) {
            acknowledged.removed(chunk, 1);
        }
        return modified.result(projection, shard);
    }

    /**
     * The insert of an upsert with a replacement, when nothing matched on the chunk its key names: an upsert pinned to
     * the new document's {@code _id} (the filter's, the replacement's, or a new one), its stored key, its tenant and
     * shard-key fields as the replacement has them (or lacks them) and the filter, so that a document appearing in
     * between is replaced only if the replacement keeps its placement.
     */
    private FindAndModifyResult insertReplacement(NamespaceView view, Chunk chunk, ShardKey key, FindAndModifyRequest request,
                                                  Projections.Plan projection, UpdateRules rules) {
        String shard = chunk.shardId();
        Document replacement = new Document(request.update());
        Document fixed = UpdateRules.equalities(request.filter());
        Object id = fixed.get("_id");
        if (id == null) {
            id = replacement.containsKey("_id") ? replacement.get("_id") : new ObjectId();
        }
        replacement.put("_id", id);
        replacement.put(ShardKeyField.NAME, key.toHex());
        // Each path once: an upsert refuses a path its filter fixes twice. What the filter fixes, the replacement has.
        Document pins = new Document(ShardKeyField.NAME, key.toHex());
        if (!fixed.containsKey("_id")) {
            pins.append("_id", id);
        }
        rules.samePlacement(replacement).forEach((field, condition) -> {
            if (!fixed.containsKey(field) && !pins.containsKey(field)) {
                pins.append(field, condition);
            }
        });
        load.write(shard, List.of(chunk));
        Document command = command(view, new Document("$and", List.of(pins, request.filter())), null, replacement, request, projection, true);
        Modified modified = findAndModifyOn(view, shard, chunk, command, request.remove(), failed -> !duplicateKey(failed));
        if (!modified.reported()) {
            acknowledged.uncertain(chunk);
        } else if (modified.upsertedId() != null) {
            acknowledged.added(chunk, 1);
        }
        return modified.result(projection, shard);
    }

    /** A shard's duplicate-key refusal: nothing was inserted. */
    private static boolean duplicateKey(RuntimeException e) {
        return e instanceof RouterException && e.getCause() instanceof MongoException mongo && mongo.getCode() == 11000;
    }

    /** The {@code findAndModify} command a shard runs. */
    private static Document command(NamespaceView view, Document filter, Document sort, Document update, FindAndModifyRequest request,
                                    Projections.Plan projection, boolean upsert) {
        Document command = new Document("findAndModify", view.collection()).append("query", filter);
        if (sort != null && !sort.isEmpty()) {
            command.append("sort", sort);
        }
        if (request.remove()) {
            command.append("remove", true);
        } else {
            command.append("update", update).append("new", request.returnNew());
        }
        if (upsert) {
            command.append("upsert", true);
        }
        return command.append("fields", projection.forShards());
    }

    private Document runCommand(NamespaceView view, String shard, Document command) {
        return clients.client(shard).getDatabase(view.database()).runCommand(command);
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
        availability.require(operation, targets.shards());
        long matched = 0;
        long modified = 0;
        List<String> written = new ArrayList<>();
        for (String shard : targets.shards()) {
            MongoCollection<Document> collection = collection(view, shard);
            Document filter = targets.scoped(shard, scopedFilter);
            load.write(shard, targets.chunksByShard().get(shard));
            ShardWrite result = onShard(view, shard, operation, () -> write.apply(collection, filter));
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
        availability.require("delete", targets.shards());
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
                    result = onShard(view, shard, "delete", () -> multi ? collection.deleteMany(filter) : collection.deleteOne(filter));
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
        ShardKey key = pinnedKey(view, scopedFilter, replacement ? update : null);
        Chunk chunk = writableChunk(views, key, ticket);
        availability.require("update", List.of(chunk.shardId()));
        load.write(chunk.shardId(), List.of(chunk));
        Document filter = new Document("$and", List.of(new Document(ShardKeyField.NAME, key.toHex()), scopedFilter));
        MongoCollection<Document> collection = collection(view, chunk.shardId());
        UpdateResult result;
        try {
            result = upsertOrReplace(view, collection, filter, update, key, scopedFilter, replacement, upsert, chunk);
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

    private UpdateResult upsertOrReplace(NamespaceView view, MongoCollection<Document> collection, Document filter, Document update, ShardKey key,
                                         Document scopedFilter, boolean replacement, boolean upsert, Chunk chunk) {
        UpdateResult result;
        if (replacement) {
            Document replacementDoc = new Document(update);
            replacementDoc.put(ShardKeyField.NAME, key.toHex());
            result = onShard(view, chunk.shardId(), "update", () -> collection.replaceOne(filter, replacementDoc, new ReplaceOptions().upsert(upsert)));
        } else {
            Document withKey = withKeyOnInsert(update, key, scopedFilter);
            result = onShard(view, chunk.shardId(), "update", () -> collection.updateOne(filter, withKey, new UpdateOptions().upsert(upsert)));
        }
        return result;
    }

    /**
     * The shard key of the one chunk an upsert or replacement can write: every shard-key field fixed by equality in the
     * filter (or, for a replacement, carried by it).
     *
     * @param replacement the replacement document, {@code null} for operators
     */
    private static ShardKey pinnedKey(NamespaceView view, Document scopedFilter, Document replacement) {
        Document keySource = UpdateRules.equalities(scopedFilter);
        if (replacement != null) {
            keySource.putAll(replacement);
        }
        try {
            return view.strategy().keyOf(keySource);
        } catch (IllegalArgumentException e) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, (replacement != null ? "update" : "filter")
                + ": an upsert or replacement needs every shard-key field " + view.strategy().fields()
                + " fixed by equality: " + e.getMessage(), e);
        }
    }

    /** An operator update that, when it inserts, stores the shard key and the filter's equalities the update leaves alone. */
    private static Document withKeyOnInsert(Document update, ShardKey key, Document scopedFilter) {
        Document withKey = new Document(update);
        Document setOnInsert = new Document(update.get("$setOnInsert") instanceof Document s ? s : new Document());
        setOnInsert.put(ShardKeyField.NAME, key.toHex());
        UpdateRules.equalities(scopedFilter).forEach((field, value) -> {
            if (!field.startsWith("$") && !touchedBy(update, field)) {
                setOnInsert.putIfAbsent(field, value);
            }
        });
        withKey.put("$setOnInsert", setOnInsert);
        return withKey;
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

    /** False for a write that changed no document: there is nothing its shard's standby must have. */
    private static boolean changedAnything(Object result) {
        if (result instanceof UpdateResult update) {
            return update.getModifiedCount() > 0 || update.getUpsertedId() != null;
        }
        if (result instanceof DeleteResult delete) {
            return delete.getDeletedCount() > 0;
        }
        if (result instanceof ShardWrite shardWrite) {
            return shardWrite.modified() > 0;
        }
        if (result instanceof Document reply && reply.get("lastErrorObject") instanceof Document last) {
            return !(last.get("n") instanceof Number n) || n.longValue() > 0;
        }
        return true;
    }

    /**
     * Makes one write on one shard. With durability STANDBY it returns, or throws the shard's refusal of a statement,
     * only once the shard's standby has what the shard applied ({@link StandbyAcks}).
     */
    private <T> T onShard(NamespaceView view, String shard, String operation, java.util.function.Supplier<T> write) {
        // Checked again right before the shard is written: a router paused since the write began may have been left
        // out of a fence whose cutover moved this range away. And once it is answered: a router paused between this
        // check and the shard's answer (or whose acks stopped reaching Kafka) may have sent it after such a cutover.
        long lapses = lease.leaseLapses();
        requireLease();
        boolean waits = view.durability() == WriteDurability.STANDBY;
        StandbyAcks.Sent sent = waits ? standbyAcks.sending(shard) : null;
        operationTimes.start();
        try {
            T result = metrics.timed(shard, operation, write);
            requireUnbrokenLease(shard, operation, lapses);
            if (waits && changedAnything(result)) {
                standbyAcks.await(sent, operationTimes.server(), view.namespace(), operationTimes.latest());
            }
            return result;
        } catch (MongoWriteException refused) {
            // One statement, refused: nothing was applied, nothing to wait for.
            throw clients.failure(shard, refused);
        } catch (MongoBulkWriteException refused) {
            // Statements before the refused one were applied: the refusal is answered once they are as durable as asked.
            com.mongodb.bulk.BulkWriteResult applied = refused.getWriteResult();
            if (waits && applied.getInsertedCount() + applied.getModifiedCount() + applied.getDeletedCount() + applied.getUpserts().size() > 0) {
                standbyAcks.await(sent, operationTimes.server(), view.namespace(), operationTimes.latest());
            }
            throw clients.failure(shard, refused);
        } catch (MongoException e) {
            throw clients.failure(shard, e);
        } catch (IllegalStateException e) {
            throw ShardClients.closedUnderneath(e) ? clients.closed(shard, e) : e;
        } catch (org.bson.BsonInvalidOperationException unreadable) {
            throw new RouterException(RouterException.Kind.SHARD_ERROR, "shard " + shard + " answered the " + operation
                + " with a reply the driver cannot read: " + unreadable.getMessage(), unreadable);
        }
    }
}
