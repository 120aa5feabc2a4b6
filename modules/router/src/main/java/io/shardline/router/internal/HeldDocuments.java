package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.List;

import org.bson.Document;

import io.shardline.router.api.RouterException;
import io.shardline.router.api.WriteResult;

/**
 * Writes outside transactions and the documents transactions hold: such a write never changes a held document,
 * whose intent it would undo or whose commit would undo it; it waits for the document instead.
 */
public final class HeldDocuments {

    private final Transactions transactions;

    public HeldDocuments(Transactions transactions) {
        this.transactions = transactions;
    }

    /**
     * Runs a write outside any transaction so that it never changes a document a transaction holds (which would undo
     * the transaction's intent or be undone by its commit): it goes with the documents no transaction holds, and for those
     * a transaction holds it waits until they are released (at most the transaction timeout), then writes them. An
     * upsert waits first, so that it cannot insert beside a matching document a transaction holds.
     *
     * @param write   the write, given its filter
     * @param written how many documents a result wrote
     * @param combine two results of a multi-document write as one
     */
    public <R> R write(WritePath.ViewSource views, Document scopedFilter, boolean multi, boolean upsert,
                                      java.util.function.Function<Document, R> write, java.util.function.ToLongFunction<R> written,
                                      java.util.function.BinaryOperator<R> combine) {
        long deadline = transactions.releaseDeadline();
        if (upsert) {
            transactions.awaitReleased(views, scopedFilter, deadline);
            return write.apply(Transactions.unheld(scopedFilter));
        }
        if (multi) {
            // The documents held now wait; the write goes to every other one, then to those once released: each once.
            List<Object> held = transactions.heldIds(views, scopedFilter);
            R result = write.apply(Transactions.unheld(held.isEmpty() ? scopedFilter
                : new Document("$and", List.of(scopedFilter, new Document("_id", new Document("$nin", held))))));
            if (held.isEmpty()) {
                return result;
            }
            Document heldFilter = new Document("$and", List.of(scopedFilter, new Document("_id", new Document("$in", held))));
            try {
                transactions.awaitReleased(views, heldFilter, deadline);
            } catch (RouterException stillHeld) {
                throw new RouterException(RouterException.Kind.TRANSACTION_CONFLICT, "written to " + written.applyAsLong(result)
                    + " documents; " + held.size() + " more that transactions held were not written (" + stillHeld.getMessage()
                    + "): sending the write again would apply it again to those written");
            }
            return combine.apply(result, write.apply(Transactions.unheld(heldFilter)));
        }
        boolean retried = false;
        while (true) {
            R result = write.apply(Transactions.unheld(scopedFilter));
            if (written.applyAsLong(result) > 0) {
                return result;
            }
            List<Object> held = transactions.heldIds(views, scopedFilter);
            if (held.isEmpty()) {
                if (retried) {
                    return result;
                }
                retried = true; // a document released between the write and the look may have been passed over
                continue;
            }
            transactions.awaitReleased(views, new Document("$and", List.of(scopedFilter, new Document("_id", new Document("$in", held)))), deadline);
        }
    }

    /** Two results of one multi-document write as one. */
    public static WriteResult combined(WriteResult first, WriteResult second) {
        List<Object> upserted = new ArrayList<>(first.upsertedIds());
        upserted.addAll(second.upsertedIds());
        List<String> shards = new ArrayList<>(first.shards());
        second.shards().stream().filter(shard -> !shards.contains(shard)).forEach(shards::add);
        return new WriteResult(first.matched() + second.matched(), first.modified() + second.modified(), first.inserted() + second.inserted(),
            first.deleted() + second.deleted(), upserted, shards);
    }

}
