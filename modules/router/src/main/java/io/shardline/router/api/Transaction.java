package io.shardline.router.api;

import java.util.List;

import org.bson.Document;

/**
 * The statements of one cross-shard transaction, all on namespaces of one caller's scope: each reads and writes as
 * the transaction sees the data (its own writes included), and nothing of it is visible to anyone else until it
 * commits; then all of it is. A statement that meets a document another transaction holds either waits briefly for
 * it or fails with {@link RouterException.Kind#TRANSACTION_CONFLICT}, after which the transaction is aborted and may
 * be run again from its start. Any other failure of a statement aborts the transaction too, as in MongoDB.
 */
public interface Transaction {

    /** The transaction's id, as on the coordinator log. */
    String id();

    /** The documents matching {@code filter}, each held by the transaction until it ends. */
    List<Document> find(String namespace, Document filter);

    /**
     * Inserts documents (each given an {@code _id} when it has none); a duplicate {@code _id} fails the statement.
     *
     * @return the documents' {@code _id}s, in order
     */
    List<Object> insert(String namespace, List<Document> documents);

    /**
     * Updates the first ({@code multi} false) or every document matching {@code filter}, with update operators or a
     * replacement; like outside a transaction, an update never changes a document's tenant or shard key.
     *
     * @return how many documents matched
     */
    long update(String namespace, Document filter, Document update, boolean multi);

    /** Deletes the first ({@code multi} false) or every document matching {@code filter}; returns how many. */
    long delete(String namespace, Document filter, boolean multi);
}
