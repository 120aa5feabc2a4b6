package io.shardline.backup;

import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;

import io.shardline.core.key.ShardKey;
import io.shardline.core.txn.IntentLayout;
import io.shardline.core.txn.IntentLayout.Op;

/**
 * What a restored document holding a transaction's intent becomes: the document as it stood at the restore's moment.
 * A transaction that had committed by then (its decision COMMITTED, taken at or before the moment) leaves what it
 * did: an update's new value, a delete's absence, an insert's document; any other (aborted, or decided after the
 * moment) leaves the document as it was before it: no insert, the old value. A transaction whose decision is not
 * known (still undecided, or not yet resolved when the restore reads the decisions) keeps its intent, for the routers
 * to resolve from the coordinator log as they resolve any intent.
 */
final class RestoredIntents {

    /** What becomes of one held document. */
    sealed interface Resolution permits Keep, Replace, Delete {
    }

    /** The intent stays: its transaction's decision is not known. */
    record Keep(String txnId) implements Resolution {
    }

    /** The document becomes {@code document}, without an intent. */
    record Replace(BsonDocument document) implements Resolution {
    }

    /** The document is not there at the moment. */
    record Delete(BsonValue id) implements Resolution {
    }

    private RestoredIntents() {
    }

    /** The transaction holding {@code stored}, or {@code null} when it holds no intent. */
    static String holder(BsonDocument stored) {
        return stored.get(IntentLayout.FIELD) instanceof BsonDocument intent && intent.get(IntentLayout.ID) instanceof BsonString id
            ? id.getValue() : null;
    }

    /**
     * @param stored   a restored document holding an intent
     * @param decision its transaction's decision, {@code null} when not known
     * @param moment   the restore's moment, epoch milliseconds
     */
    static Resolution resolve(BsonDocument stored, TxnDecisions.Decided decision, long moment) {
        BsonDocument intent = stored.getDocument(IntentLayout.FIELD);
        String txnId = holder(stored);
        Op op;
        try {
            op = Op.valueOf(intent.getString(IntentLayout.OP).getValue());
        } catch (RuntimeException unknown) {
            throw new BackupException("document " + stored.get("_id") + ": " + IntentLayout.FIELD + "." + IntentLayout.OP + " is not one of "
                + java.util.Arrays.toString(Op.values()) + ": " + intent.get(IntentLayout.OP));
        }
        if (decision == null) {
            return new Keep(txnId);
        }
        boolean committed = decision.committedBy(moment);
        if (committed && op == Op.DELETE || !committed && op == Op.INSERT) {
            return new Delete(stored.get("_id"));
        }
        if (committed && op == Op.UPDATE) {
            if (!(intent.get(IntentLayout.NEW) instanceof BsonDocument next)) {
                throw new BackupException("document " + stored.get("_id") + ": the UPDATE intent of transaction " + txnId + " has no "
                    + IntentLayout.FIELD + "." + IntentLayout.NEW);
            }
            BsonDocument document = new BsonDocument("_id", stored.get("_id"));
            next.forEach((field, value) -> {
                if (!field.equals("_id") && !field.equals(IntentLayout.FIELD) && !field.equals(ShardKey.DOCUMENT_FIELD)) {
                    document.put(field, value);
                }
            });
            if (stored.containsKey(ShardKey.DOCUMENT_FIELD)) {
                document.put(ShardKey.DOCUMENT_FIELD, stored.get(ShardKey.DOCUMENT_FIELD));
            }
            return new Replace(document);
        }
        BsonDocument document = new BsonDocument();
        stored.forEach((field, value) -> {
            if (!field.equals(IntentLayout.FIELD)) {
                document.put(field, value);
            }
        });
        return new Replace(document);
    }
}
