package io.shardline.router.internal;

import java.util.List;

import org.bson.Document;

import io.shardline.core.txn.IntentLayout;
import io.shardline.core.txn.IntentLayout.Op;
import io.shardline.router.api.RouterException;
import io.shardline.schemas.avro.TxnState;

/**
 * A transaction's intent on one document, kept in the document itself under {@link #FIELD}: which transaction holds
 * the document, what it does to it, and, for an update, the value it will have once the transaction commits. The
 * document's own fields stay its committed value until then, so a read outside the transaction sees the committed
 * data without looking at the intent; a document a transaction inserts exists only with an INSERT intent until the
 * commit, and is hidden from reads outside the transaction. Resolving an intent (commit or abort) is one conditional
 * write on the document, idempotent: it names the transaction holding it.
 */
public final class TxnIntents {

    /** The reserved field holding a document's intent. */
    public static final String FIELD = IntentLayout.FIELD;
    static final String ID = FIELD + "." + IntentLayout.ID;
    static final String OP = FIELD + "." + IntentLayout.OP;
    /** Where an update's new value is, while its transaction holds the document. */
    static final String NEW = FIELD + "." + IntentLayout.NEW;

    private TxnIntents() {
    }

    /** A new intent of {@code txnId} of priority {@code priority} by router {@code routerId}. */
    static Document intent(String txnId, Op op, long priority, String routerId) {
        return new Document(IntentLayout.ID, txnId).append(IntentLayout.OP, op.name()).append("p", priority).append("r", routerId)
            .append("t", System.currentTimeMillis());
    }

    /**
     * The intent a stored document carries, or {@code null}; a {@code _tx} that is no intent (stored before Shardline
     * reserved the field) is refused, naming the document.
     */
    static Document of(Document stored) {
        Object intent = stored.get(FIELD);
        if (intent == null) {
            return null;
        }
        if (!(intent instanceof Document document) || !(document.get(IntentLayout.ID) instanceof String) || !(document.get(IntentLayout.OP) instanceof String)) {
            throw new RouterException(RouterException.Kind.SHARD_ERROR, "document " + stored.get("_id") + " has a field '" + FIELD
                + "' that is not a transaction's intent (" + intent + "); the field is reserved: rename it on the shard");
        }
        return document;
    }

    static String holder(Document intent) {
        return intent.getString(IntentLayout.ID);
    }

    static Op op(Document intent) {
        return Op.valueOf(intent.getString(IntentLayout.OP));
    }

    static long priority(Document intent) {
        return intent.get("p") instanceof Number n ? n.longValue() : Long.MAX_VALUE;
    }

    static long lockedAt(Document intent) {
        return intent.get("t") instanceof Number n ? n.longValue() : 0;
    }

    /** {@code stored} as a client sees it: without its intent and stored shard key. */
    static Document committed(Document stored) {
        Document copy = new Document(stored);
        copy.remove(FIELD);
        copy.remove(ShardKeyField.NAME);
        return copy;
    }

    /** The filter that finds exactly this document while {@code txnId} holds it: its id, shard key fields and holder. */
    static Document held(NamespaceView view, Document stored, String txnId) {
        Document filter = new Document("_id", stored.get("_id"));
        for (String field : view.strategy().fields()) {
            filter.put(field, valueAt(stored, field));
        }
        filter.put(ID, txnId);
        return filter;
    }

    /** The value at a dotted path of a document, {@code null} when missing. */
    static Object valueAt(Document document, String path) {
        Object value = document;
        for (String part : path.split("\\.")) {
            value = value instanceof Document d ? d.get(part) : null;
        }
        return value;
    }

    /**
     * Resolves the intent {@code txnId} holds on {@code stored} as {@code decision} says, through the router's write
     * path (so it goes to the document's owner now, wherever a migration moved it): a committed update replaces the
     * document with its new value, a committed delete or an aborted insert deletes it, anything else removes the intent.
     * Does nothing when the document no longer carries that intent.
     *
     * @param intent the intent as it is now: the coordinator's own, or one read again after the decision (a
     *               transaction changes its intents only before its decision)
     */
    static void resolve(WritePath writes, WritePath.ViewSource views, Document stored, Document intent, TxnState decision) {
        NamespaceView view = views.view();
        String txnId = holder(intent);
        Document filter = held(view, stored, txnId);
        Op op = op(intent);
        boolean committed = decision == TxnState.COMMITTED;
        if (committed && op == Op.DELETE || !committed && op == Op.INSERT) {
            writes.delete(views, filter, false);
        } else if (committed && op == Op.UPDATE) {
            writes.update(views, filter, committed((Document) intent.get(IntentLayout.NEW)), false, false);
        } else {
            writes.update(views, filter, new Document("$unset", new Document(FIELD, "")), false, false);
        }
    }

    /**
     * Resolves {@code txnId}'s intent on {@code stored} once {@code txnId} is decided, reading the document again first:
     * what a reader saw may be older than the transaction's last statement before its decision.
     */
    static void resolveDecided(WritePath writes, ReadPath reads, WritePath.ViewSource views, Document stored, String txnId, TxnState decision) {
        List<Document> now = reads.stored(views.view(), held(views.view(), stored, txnId));
        if (!now.isEmpty()) {
            resolve(writes, views, now.get(0), of(now.get(0)), decision);
        }
    }

    /**
     * An update with operators as it applies to the new value in an intent: each path it names (and a {@code $rename}'s
     * target) under {@link #NEW}.
     */
    static Document underNew(Document update) {
        Document moved = new Document();
        update.forEach((operator, operand) -> {
            if (!(operand instanceof Document fields)) {
                throw new RouterException(RouterException.Kind.BAD_REQUEST, "update: the operand of " + operator + " must be a document");
            }
            Document paths = new Document();
            fields.forEach((path, value) -> paths.put(NEW + "." + path, operator.equals("$rename") && value instanceof String target
                ? NEW + "." + target : value));
            moved.put(operator, paths);
        });
        return moved;
    }

    /** Whether a filter or update names the reserved field. */
    static boolean names(String path) {
        return path.equals(FIELD) || path.startsWith(FIELD + ".");
    }
}
