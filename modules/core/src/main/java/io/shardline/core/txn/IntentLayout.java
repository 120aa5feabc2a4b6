package io.shardline.core.txn;

/**
 * How a document carries a cross-shard transaction's intent: routers write and resolve intents ({@code TxnIntents} in
 * the router module), and a restore to a moment when a document was held resolves the intent as the transaction stood
 * at that moment ({@code RestoredIntents} in the backup module). The intent is a sub-document under {@value #FIELD}:
 * the holding transaction's id under {@value #ID}, what it does under {@value #OP} (an {@link Op}'s name) and, for an
 * update, the document's value once the transaction commits under {@value #NEW}. While the intent is there the
 * document's own fields are its committed value.
 */
public final class IntentLayout {

    /** The reserved field holding a document's intent. */
    public static final String FIELD = "_tx";
    /** The intent's field naming the transaction that holds the document. */
    public static final String ID = "id";
    /** The intent's field saying what the transaction does to the document. */
    public static final String OP = "op";
    /** The intent's field holding an update's new value. */
    public static final String NEW = "new";

    /** What a transaction does to a document it holds. */
    public enum Op {
        /** Read by the transaction: held unchanged so that no one changes it before the transaction ends. */
        LOCK,
        /** Inserted by the transaction: the document's fields are the inserted value, visible only to it. */
        INSERT,
        /** Updated by the transaction: the new value is in the intent. */
        UPDATE,
        /** Deleted by the transaction. */
        DELETE
    }

    private IntentLayout() {
    }
}
