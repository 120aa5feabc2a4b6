package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bson.Document;
import org.bson.types.ObjectId;

import com.mongodb.MongoException;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.FindOneAndUpdateOptions;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.ReturnDocument;

import io.shardline.core.txn.IntentLayout;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.Scope;
import io.shardline.router.api.Transaction;

/**
 * One open transaction of this router (its coordinator). Every document a statement touches is held from then to the
 * transaction's end by an intent in the document ({@link TxnIntents}), documents it reads included, so that what it
 * read cannot change under it (strict two-phase locking, serializable for the documents it reads). A statement that
 * meets another transaction's intent resolves it when that transaction is decided, wounds it when it is younger
 * (aborts it on the coordinator log, wound-wait), or waits for it up to the lock timeout and then fails the
 * transaction with {@code TRANSACTION_CONFLICT}: no two transactions wait for each other for longer than that.
 * <p>
 * An update's new value is computed by the shard itself, on a copy of the document in the transaction's scratch
 * collection ({@code shardline.txn.<id>}) on the shard holding it, so every update operator means what it means to
 * the shard; the same scratch collection tells which of the transaction's own updated documents match a filter.
 */
final class OpenTransaction implements Transaction {

    private record Predicate(String namespace, Document scoped) {
    }

    static final String SCRATCH_DATABASE = "shardline";

    /** The collection, in {@link #SCRATCH_DATABASE}, where a transaction's updates are computed. */
    static String scratchName(String txnId) {
        return "txn." + txnId;
    }

    private final Transactions owner;
    private final String id;
    private final Scope scope;
    private final long priority;
    private final long startedAt = System.currentTimeMillis();
    /** Every document the transaction holds, by namespace and {@code _id}, as it was stored when first held. */
    private final Map<String, Map<Object, Document>> held = new LinkedHashMap<>();
    /** Read by the heartbeat without waiting for a statement: a copy-on-write set. */
    private final Set<String> namespaces = new java.util.concurrent.CopyOnWriteArraySet<>();
    private final Set<String> scratchShards = new LinkedHashSet<>();
    /** ACTIVE records sent during the running statement, which it waits for before it answers. */
    private final List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> announcing = new ArrayList<>();
    /** Every filter a statement read documents by, beyond a single _id it holds: checked for phantoms at the commit. */
    private final Set<Predicate> predicates = new LinkedHashSet<>();
    private volatile boolean ended;
    private volatile boolean sealed;
    /** Why the transaction ended aborted, once it did; {@code null} while open or once committed. */
    private volatile String abortedBecause;
    /** Whether a statement failed: it may have left intents the transaction did not learn of (a write whose answer was lost). */
    private volatile boolean failedStatement;

    OpenTransaction(Transactions owner, Scope scope, long priority) {
        this.owner = owner;
        this.id = new ObjectId().toHexString();
        this.scope = scope;
        this.priority = priority;
    }

    @Override
    public String id() {
        return id;
    }

    Scope scope() {
        return scope;
    }

    long priority() {
        return priority;
    }

    long startedAt() {
        return startedAt;
    }

    List<String> namespaces() {
        return List.copyOf(namespaces);
    }

    boolean ended() {
        return ended;
    }

    @Override
    public synchronized List<Document> find(String namespace, Document filter) {
        boolean heldBefore = !held.isEmpty();
        List<Document> found = statement(() -> holdMatching(namespace, filter, Integer.MAX_VALUE));
        if (heldBefore) {
            // What it answers must be one consistent view with what it answered before: if an older transaction took a
            // document this one held (wounding it) and changed it, the abort is on the log before the change.
            statement(() -> {
                owner.requireNotAborted(this);
                return null;
            });
        }
        return found;
    }

    @Override
    public synchronized List<Object> insert(String namespace, List<Document> documents) {
        return statement(() -> {
            announce(namespace);
            List<Object> ids = new ArrayList<>(documents.size());
            for (int i = 0; i < documents.size(); i++) {
                Document document = owner.access().scopedDocument(scope, "documents[" + i + "]", documents.get(i));
                insertOne(namespace, document);
                ids.add(document.get("_id"));
            }
            return ids;
        });
    }

    @Override
    public synchronized long update(String namespace, Document filter, Document update, boolean multi) {
        return statement(() -> {
            Document checked = owner.access().checkedUpdate(scope, namespace, filter, update);
            List<Document> matching = holdMatching(namespace, filter, multi ? Integer.MAX_VALUE : 1);
            for (Document current : matching) {
                updateOne(namespace, filter, current, checked);
            }
            return (long) matching.size();
        });
    }

    @Override
    public synchronized long delete(String namespace, Document filter, boolean multi) {
        return statement(() -> {
            List<Document> matching = holdMatching(namespace, filter, multi ? Integer.MAX_VALUE : 1);
            for (Document current : matching) {
                Document stored = held.get(namespace).get(current.get("_id"));
                WritePath.ViewSource views = views(namespace);
                Document intent = TxnIntents.of(stored);
                if (intent != null && TxnIntents.op(intent) == IntentLayout.Op.INSERT) {
                    // Inserted by this transaction: no one else has ever seen it, so it simply goes.
                    requireHeld(owner.writes().delete(views, TxnIntents.held(views.view(), stored, id), false).deleted(), namespace, current);
                    held.get(namespace).remove(current.get("_id"));
                } else {
                    setIntent(namespace, stored, IntentLayout.Op.DELETE, null);
                }
            }
            return (long) matching.size();
        });
    }

    /** No statement runs after this: the transaction is being committed or aborted. Waits for a statement running now. */
    synchronized void seal() {
        sealed = true;
    }

    boolean sealed() {
        return sealed;
    }

    boolean failedStatement() {
        return failedStatement;
    }

    /** Notes why the transaction was aborted, for what its later statements and commit answer. */
    void abortedBecause(String cause) {
        this.abortedBecause = cause;
    }

    /** The answer to a statement or commit of a transaction that has ended. */
    RouterException ended(String what) {
        String cause = abortedBecause;
        return cause == null ? new RouterException(RouterException.Kind.BAD_REQUEST, "transaction " + id + " has ended; " + what + " is refused")
            : new RouterException(RouterException.Kind.TRANSACTION_CONFLICT, "transaction " + id + " was aborted (" + cause + "); run it again");
    }

    /** Runs a statement; any failure of it ends the transaction, aborted, as a failed statement does in MongoDB. */
    private <T> T statement(java.util.function.Supplier<T> body) {
        if (ended || sealed) {
            throw ended("a statement");
        }
        if (System.currentTimeMillis() - startedAt > owner.settings().lifetime().toMillis()) {
            owner.abort(this, "open for longer than the transaction lifetime " + owner.settings().lifetime());
            throw new RouterException(RouterException.Kind.TRANSACTION_CONFLICT, "transaction " + id + " was open for longer than its lifetime "
                + owner.settings().lifetime() + " and is aborted");
        }
        try {
            T result = body.get();
            awaitAnnounced();
            return result;
        } catch (RuntimeException e) {
            announcing.clear();
            failedStatement = true;
            owner.abort(this, "a statement failed: " + e.getMessage());
            throw e;
        }
    }

    /**
     * Waits for the ACTIVE records the statement sent: sent as it starts holding documents in a new namespace, so that the
     * statement's first writes do not wait for the log, and on the log before the statement answers, so that a
     * transaction a client goes on with is one every router's recovery can find.
     */
    private void awaitAnnounced() {
        try {
            for (var pending : announcing) {
                owner.announced(this, pending);
            }
        } finally {
            announcing.clear();
        }
    }

    /**
     * Holds every document matching {@code filter} (at most {@code limit}) and answers them as this transaction sees them:
     * its own inserts and updates applied, its own deletes gone.
     */
    private List<Document> holdMatching(String namespace, Document filter, int limit) {
        announce(namespace);
        Document scoped = owner.access().scoped(scope, filter);
        WritePath.ViewSource views = views(namespace);
        if (filter != null && filter.size() == 1 && filter.containsKey("_id") && !(filter.get("_id") instanceof Document)
            && !(filter.get("_id") instanceof List<?>)) {
            List<Document> byId = holdById(namespace, views, scoped, filter.get("_id"));
            if (byId != null) {
                return byId;
            }
        }
        predicates.add(new Predicate(namespace, scoped));
        long deadline = System.currentTimeMillis() + owner.settings().lockTimeout().toMillis();
        while (true) {
            NamespaceView view = views.view();
            Document free = new Document("$and", List.of(scoped, new Document(TxnIntents.FIELD, new Document("$exists", false))));
            owner.writes().update(views, free, new Document("$set", new Document(TxnIntents.FIELD,
                TxnIntents.intent(id, IntentLayout.Op.LOCK, priority, owner.routerId()))), true, false);
            Document query = withMyUpdates(namespace, view, scoped);
            List<Document> stored = owner.reads().stored(view, query);
            List<Document> visible = new ArrayList<>();
            List<Document> updatedByMe = new ArrayList<>();
            List<Document> others = new ArrayList<>();
            boolean unheld = false;
            for (Document document : stored) {
                Document intent = TxnIntents.of(document);
                if (intent == null) {
                    unheld = true; // written after the lock step: hold it on the next round
                } else if (!id.equals(TxnIntents.holder(intent))) {
                    if (heldBefore(namespace, document) != null) {
                        throw lost(namespace, document);
                    }
                    others.add(document);
                } else {
                    Document before = heldBefore(namespace, document);
                    if (before != null && TxnIntents.lockedAt(TxnIntents.of(before)) != TxnIntents.lockedAt(intent)) {
                        throw lost(namespace, document); // released by another router and held again since
                    }
                    remember(namespace, document);
                    switch (TxnIntents.op(intent)) {
                        case DELETE -> { }
                        case UPDATE -> updatedByMe.add(document);
                        case LOCK, INSERT -> visible.add(TxnIntents.committed(document));
                    }
                }
            }
            if (others.isEmpty() && !unheld) {
                visible.addAll(matchingNewValues(namespace, view, scoped, updatedByMe));
                return visible.size() > limit ? visible.subList(0, limit) : visible;
            }
            if (others.isEmpty() && System.currentTimeMillis() >= deadline) {
                throw new RouterException(RouterException.Kind.TRANSACTION_CONFLICT, "transaction " + id + ": documents matching " + filter
                    + " in " + namespace + " kept being written while it tried to hold them");
            }
            for (Document other : others) {
                owner.contend(this, views, other, deadline);
            }
        }
    }

    /**
     * {@code scoped}, or any document this transaction updated in the namespace (whose new value may match where its
     * stored value does not): each pinned by its {@code _id} and shard key, so that the query goes only to the shards
     * the filter targets and those holding such documents, never to every shard.
     */
    private Document withMyUpdates(String namespace, NamespaceView view, Document scoped) {
        Map<Object, Document> documents = held.get(namespace);
        List<Document> updated = new ArrayList<>();
        if (documents != null) {
            for (Document stored : documents.values()) {
                if (TxnIntents.op(TxnIntents.of(stored)) == IntentLayout.Op.UPDATE) {
                    updated.add(new Document(TxnIntents.held(view, stored, id)).append(TxnIntents.OP, IntentLayout.Op.UPDATE.name()));
                }
            }
        }
        if (updated.isEmpty()) {
            return scoped;
        }
        List<Document> either = new ArrayList<>();
        either.add(scoped);
        either.addAll(updated);
        return new Document("$or", either);
    }

    /**
     * A find by {@code _id} alone, answered without the general two steps when it can be: from what the transaction
     * holds already, or by holding the document and reading it in one step on its shard. {@code null} when neither
     * applies (no such document, or another transaction holds it).
     */
    private List<Document> holdById(String namespace, WritePath.ViewSource views, Document scoped, Object documentId) {
        Map<Object, Document> documents = held.get(namespace);
        Document mine = documents == null ? null : documents.get(documentId);
        if (mine != null) {
            Document intent = TxnIntents.of(mine);
            return switch (TxnIntents.op(intent)) {
                case DELETE -> List.of();
                case UPDATE -> List.of(TxnIntents.committed((Document) intent.get(IntentLayout.NEW)));
                case LOCK, INSERT -> List.of(TxnIntents.committed(mine));
            };
        }
        Document intent = TxnIntents.intent(id, IntentLayout.Op.LOCK, priority, owner.routerId());
        Document lock = new Document("$set", new Document(TxnIntents.FIELD, intent));
        Document locked = owner.access().modifyOne(scope, namespace, Transactions.unheld(scoped), lock);
        if (locked == null) {
            // Held: when by a commit this router answered and is resolving, it is free in a moment.
            Document existing = existing(namespace, documentId);
            Document other = existing == null ? null : TxnIntents.of(existing);
            if (other == null || !owner.awaitLocalResolution(TxnIntents.holder(other), System.currentTimeMillis() + owner.settings().lockTimeout().toMillis())) {
                return null;
            }
            locked = owner.access().modifyOne(scope, namespace, Transactions.unheld(scoped), lock);
            if (locked == null) {
                return null;
            }
        }
        locked.put(TxnIntents.FIELD, intent); // answered as a client sees it, without the intent
        remember(namespace, locked);
        return List.of(TxnIntents.committed(locked));
    }

    /** The new values of the documents this transaction updated that match {@code scoped}, as the shard matches them. */
    private List<Document> matchingNewValues(String namespace, NamespaceView view, Document scoped, List<Document> updated) {
        if (updated.isEmpty()) {
            return List.of();
        }
        List<Document> values = new ArrayList<>();
        for (Document document : updated) {
            values.add(TxnIntents.committed((Document) TxnIntents.of(document).get(IntentLayout.NEW)));
        }
        String shard = view.routing().chunks().get(0).shardId();
        MongoCollection<Document> scratch = scratch(shard);
        List<Object> ids = values.stream().map(value -> value.get("_id")).toList();
        try {
            scratch.deleteMany(new Document("_id", new Document("$in", ids)));
            scratch.insertMany(values);
            List<Document> matching = scratch.find(new Document("$and", List.of(new Document("_id", new Document("$in", ids)), scoped)))
                .into(new ArrayList<>());
            scratch.deleteMany(new Document("_id", new Document("$in", ids)));
            return matching;
        } catch (MongoException e) {
            throw owner.clients().failure(shard, e);
        }
    }

    private void insertOne(String namespace, Document document) {
        WritePath.ViewSource views = views(namespace);
        Document stored = held.computeIfAbsent(namespace, n -> new LinkedHashMap<>()).get(document.get("_id"));
        if (stored != null && TxnIntents.op(TxnIntents.of(stored)) == IntentLayout.Op.DELETE) {
            // Deleted earlier in this transaction, inserted again: an update of the stored document to the new value,
            // which keeps its tenant and shard key.
            Document next = owner.access().rules(namespace).keepStored(document, TxnIntents.committed(stored));
            owner.uniqueIndexes().requireUnchanged(views.view(), TxnIntents.committed(stored), TxnIntents.committed(next));
            setIntent(namespace, stored, IntentLayout.Op.UPDATE, next);
            return;
        }
        Document withIntent = new Document(document);
        withIntent.put(TxnIntents.FIELD, TxnIntents.intent(id, IntentLayout.Op.INSERT, priority, owner.routerId()));
        long deadline = System.currentTimeMillis() + owner.settings().lockTimeout().toMillis();
        while (true) {
            try {
                owner.writes().insert(views, List.of(new Document(withIntent)));
                held.get(namespace).put(document.get("_id"), withIntent);
                return;
            } catch (RouterException e) {
                Document existing = existing(namespace, document.get("_id"));
                Document intent = existing == null ? null : TxnIntents.of(existing);
                if (intent == null || id.equals(TxnIntents.holder(intent))) {
                    throw e; // a committed document with that _id: the duplicate key error as it is
                }
                owner.contend(this, views, existing, deadline);
            }
        }
    }

    private Document existing(String namespace, Object documentId) {
        WritePath.ViewSource views = views(namespace);
        Document query = owner.access().scoped(scope, new Document("_id", documentId));
        List<Document> found = owner.reads().stored(views.view(), query);
        return found.isEmpty() ? null : found.get(0);
    }

    private void updateOne(String namespace, Document filter, Document current, Document update) {
        Document stored = held.get(namespace).get(current.get("_id"));
        Document intent = TxnIntents.of(stored);
        boolean replacement = update.keySet().stream().noneMatch(k -> k.startsWith("$"));
        if (!replacement && !positional(update)) {
            updateInDocument(namespace, stored, current, update);
            return;
        }
        Document next;
        if (replacement) {
            next = new Document("_id", current.get("_id"));
            next.putAll(update);
            // As outside a transaction: the replacement keeps the tenant and shard key of the document it replaces.
            next = owner.access().rules(namespace).keepStored(next, current);
        } else {
            next = computed(namespace, filter, current, update);
        }
        if (TxnIntents.op(intent) == IntentLayout.Op.INSERT) {
            // Its own insert: the stored fields are the transaction's value, visible to no one else.
            WritePath.ViewSource views = views(namespace);
            Document replaced = new Document(next);
            replaced.put(TxnIntents.FIELD, intent);
            requireHeld(owner.writes().update(views, TxnIntents.held(views.view(), stored, id), replaced, false, false).matched(), namespace, current);
            held.get(namespace).put(current.get("_id"), replaced);
        } else {
            owner.uniqueIndexes().requireUnchanged(views(namespace).view(), TxnIntents.committed(stored), TxnIntents.committed(next));
            setIntent(namespace, stored, IntentLayout.Op.UPDATE, next);
        }
    }

    /**
     * An update with operators, computed by the shard in the document itself: on the document's own fields when the
     * transaction inserted it (no one else sees them), else on the new value in its intent, which the first update of
     * the document sets to the value the transaction sees, and every operator's path then names under
     * {@code _tx.new}. So an update costs the shard one write once the document is held, and nothing is copied elsewhere.
     */
    private void updateInDocument(String namespace, Document stored, Document current, Document update) {
        WritePath.ViewSource views = views(namespace);
        Document heldFilter = TxnIntents.held(views.view(), stored, id);
        Document written;
        Document intent = TxnIntents.of(stored);
        if (TxnIntents.op(intent) == IntentLayout.Op.INSERT) {
            written = modifyHeld(views, heldFilter, update, "");
        } else {
            if (TxnIntents.op(intent) != IntentLayout.Op.UPDATE) {
                setIntent(namespace, stored, IntentLayout.Op.UPDATE, TxnIntents.committed(current));
            }
            written = modifyHeld(views, heldFilter, TxnIntents.underNew(update), TxnIntents.NEW + ".");
        }
        if (written == null) {
            throw lost(namespace, stored);
        }
        Document after = TxnIntents.op(intent) == IntentLayout.Op.INSERT ? written : (Document) TxnIntents.of(written).get(IntentLayout.NEW);
        if (TxnIntents.op(intent) != IntentLayout.Op.INSERT) {
            owner.uniqueIndexes().requireUnchanged(views.view(), TxnIntents.committed(stored), TxnIntents.committed(after));
        }
        if (!java.util.Objects.equals(after.get("_id"), stored.get("_id"))) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "update: performing an update on the path '_id' would modify the "
                + "immutable field '_id'");
        }
        Document now = new Document(written);
        if (stored.containsKey(ShardKeyField.NAME)) {
            now.put(ShardKeyField.NAME, stored.get(ShardKeyField.NAME));
        }
        held.get(namespace).put(stored.get("_id"), now);
    }

    /** The held document updated on its owner, a shard's error naming the fields as the client wrote them. */
    private Document modifyHeld(WritePath.ViewSource views, Document heldFilter, Document update, String prefix) {
        try {
            return owner.writes().modifyStored(views, heldFilter, update);
        } catch (RouterException e) {
            if (prefix.isEmpty() || e.getMessage() == null || !e.getMessage().contains(prefix)) {
                throw e;
            }
            throw new RouterException(e.kind(), e.getMessage().replace(prefix, ""), e);
        }
    }

    /** Whether an update names a path through the positional {@code $} (which needs the filter's match on the document). */
    private static boolean positional(Document update) {
        for (Object operand : update.values()) {
            if (operand instanceof Document fields) {
                for (String path : fields.keySet()) {
                    if (path.equals("$") || path.startsWith("$.") || path.contains(".$.") || path.endsWith(".$")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** {@code update} applied to {@code current} by the shard holding it, on a copy in the scratch collection. */
    private Document computed(String namespace, Document filter, Document current, Document update) {
        NamespaceView view = views(namespace).view();
        String shard = view.routing().chunks().get(0).shardId();
        MongoCollection<Document> scratch = scratch(shard);
        Object documentId = current.get("_id");
        Document copyFilter = new Document(owner.access().scoped(scope, filter));
        try {
            scratch.replaceOne(new Document("_id", documentId), new Document(current), new ReplaceOptions().upsert(true));
            Document next = scratch.findOneAndUpdate(new Document("$and", List.of(new Document("_id", documentId), copyFilter)), update,
                new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER));
            if (next == null) {
                // The filter matched the stored document for a reason the copy lacks (a positional operator's array).
                next = scratch.findOneAndUpdate(new Document("_id", documentId), update, new FindOneAndUpdateOptions().returnDocument(ReturnDocument.AFTER));
            }
            return next; // the copy stays until the scratch collection is dropped at the transaction's end
        } catch (MongoException e) {
            throw owner.clients().failure(shard, e);
        }
    }

    private void setIntent(String namespace, Document stored, IntentLayout.Op op, Document newValue) {
        WritePath.ViewSource views = views(namespace);
        Document set = new Document(TxnIntents.OP, op.name());
        Document update = new Document("$set", set);
        if (newValue != null) {
            set.put(TxnIntents.FIELD + ".new", newValue);
        } else {
            update.put("$unset", new Document(TxnIntents.FIELD + ".new", ""));
        }
        requireHeld(owner.writes().update(views, TxnIntents.held(views.view(), stored, id), update, false, false).matched(), namespace, stored);
        Document intent = new Document(TxnIntents.of(stored));
        intent.put("op", op.name());
        if (newValue != null) {
            intent.put(IntentLayout.NEW, newValue);
        } else {
            intent.remove(IntentLayout.NEW);
        }
        Document now = new Document(stored);
        now.put(TxnIntents.FIELD, intent);
        held.get(namespace).put(stored.get("_id"), now);
    }

    private void requireHeld(long matched, String namespace, Document document) {
        if (matched == 0) {
            throw lost(namespace, document);
        }
    }

    private RouterException lost(String namespace, Document document) {
        return new RouterException(RouterException.Kind.TRANSACTION_CONFLICT, "transaction " + id + " no longer holds " + namespace + " "
            + document.get("_id") + ": another router aborted it (it outlived the transaction timeout, or an older transaction wounded it)");
    }

    private Document heldBefore(String namespace, Document document) {
        Map<Object, Document> documents = held.get(namespace);
        return documents == null ? null : documents.get(document.get("_id"));
    }

    private void remember(String namespace, Document stored) {
        held.computeIfAbsent(namespace, n -> new LinkedHashMap<>()).putIfAbsent(stored.get("_id"), stored);
    }

    private void announce(String namespace) {
        owner.awaitResolved(namespace); // what this router's commits answered before wrote is seen whole
        if (namespaces.add(namespace)) {
            announcing.add(owner.announce(this));
        }
    }

    private WritePath.ViewSource views(String namespace) {
        return () -> owner.access().view(namespace, scope);
    }

    private MongoCollection<Document> scratch(String shard) {
        scratchShards.add(shard);
        return owner.clients().client(shard).getDatabase(SCRATCH_DATABASE).getCollection(scratchName(id));
    }

    /**
     * Fails with TRANSACTION_CONFLICT if a document matching a filter the transaction read by has appeared since (a
     * phantom: inserted, or changed to match, by someone else): every document that matched then is held by this
     * transaction, so any matching document no transaction holds is one it did not see. Run before the decision, it
     * makes the transaction serializable for what its queries read, not only for the documents they returned.
     */
    synchronized void validatePredicates() {
        for (Predicate predicate : predicates) {
            Document unheld = new Document("$and", List.of(predicate.scoped(), new Document(TxnIntents.FIELD, new Document("$exists", false))));
            List<Document> phantoms = owner.reads().stored(views(predicate.namespace()).view(), unheld);
            if (!phantoms.isEmpty()) {
                throw new RouterException(RouterException.Kind.TRANSACTION_CONFLICT, "transaction " + id + ": " + predicate.namespace() + " "
                    + phantoms.get(0).get("_id") + " matches a filter the transaction read by, and appeared after it read (a phantom)");
            }
        }
    }

    /** Every document held, as last written by this transaction, by namespace. */
    synchronized Map<String, List<Document>> heldDocuments() {
        Map<String, List<Document>> copy = new LinkedHashMap<>();
        held.forEach((namespace, documents) -> copy.put(namespace, List.copyOf(documents.values())));
        return copy;
    }

    /** Ends the transaction: no statement runs after this. */
    void end() {
        ended = true;
    }

    /** Drops the transaction's scratch collections. */
    synchronized void dropScratch() {
        for (String shard : scratchShards) {
            try {
                owner.clients().client(shard).getDatabase(SCRATCH_DATABASE).getCollection(scratchName(id)).drop();
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(OpenTransaction.class).warn("could not drop the scratch collection of transaction {} on {}: {}",
                    id, shard, e.toString());
            }
        }
    }
}
