package io.shardline.cli.demo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.bson.Document;

import io.micrometer.core.instrument.Timer;
import io.shardline.router.ShardRouter;
import io.shardline.router.api.Scope;
import io.shardline.router.api.Transaction;
import io.shardline.router.api.WriteResult;
import io.shardline.worker.check.WriteLedger;

/**
 * The workload's writes through the router: each attempted in the {@link WriteLedger} before it is sent and acknowledged
 * once the router returns, timed by the write timer, and its span kept for the write stall around each fence. A write
 * that fails throws, and stays attempted.
 */
final class LedgerWrites {

    private final ShardRouter router;
    private final WriteLedger ledger;
    private final Timer timer;
    private final List<AuthWorkload.WriteSpan> spans = Collections.synchronizedList(new ArrayList<>());

    LedgerWrites(ShardRouter router, WriteLedger ledger, Timer timer) {
        this.router = router;
        this.ledger = ledger;
        this.timer = timer;
    }

    /** Inserts the documents in one request. */
    void insert(String tenant, String namespace, List<Document> documents) {
        List<WriteLedger.Key> keys = documents.stream().map(doc -> new WriteLedger.Key(namespace, doc.getString("_id"))).toList();
        for (int i = 0; i < documents.size(); i++) {
            ledger.attempt(keys.get(i), documents.get(i).getInteger("v"));
        }
        long start = System.currentTimeMillis();
        timer.record(() -> router.insert(tenant, namespace, documents));
        for (int i = 0; i < documents.size(); i++) {
            acknowledged(keys.get(i), documents.get(i).getInteger("v"), start);
        }
    }

    /**
     * Sets the version {@code v} of the document the filter finds by {@code _id}, and stamps {@code stampField} with now;
     * a document a user's deletion removed meanwhile is not there to set, and the write stays unacknowledged.
     */
    void set(String tenant, String namespace, Document filter, int v, String stampField) {
        WriteLedger.Key key = new WriteLedger.Key(namespace, filter.getString("_id"));
        ledger.attempt(key, v);
        long start = System.currentTimeMillis();
        WriteResult result = timer.record(() -> router.update(tenant, namespace, filter,
            new Document("$set", new Document("v", v).append(stampField, System.currentTimeMillis())), false, false));
        if (result.matched() > 0) {
            acknowledged(key, v, start);
        }
    }

    /** Deletes the documents of these ids in one request. */
    void delete(String tenant, String namespace, List<String> ids) {
        List<WriteLedger.Key> keys = ids.stream().map(id -> new WriteLedger.Key(namespace, id)).toList();
        keys.forEach(key -> ledger.attempt(key, WriteLedger.DELETED));
        long start = System.currentTimeMillis();
        timer.record(() -> router.delete(tenant, namespace, new Document("_id", new Document("$in", ids)), true));
        keys.forEach(key -> acknowledged(key, WriteLedger.DELETED, start));
    }

    /**
     * Runs {@code body} as one transaction of the tenant and commits it. Each write it attempts in the ledger (through
     * the given recorder) is acknowledged once the transaction commits; when it fails they stay attempted.
     */
    <T> T transaction(String tenant, java.util.function.BiFunction<Transaction, java.util.function.BiConsumer<WriteLedger.Key, Integer>, T> body) {
        List<Object[]> attempted = Collections.synchronizedList(new ArrayList<>());
        long start = System.currentTimeMillis();
        T result = timer.record(() -> router.inTransaction(Scope.tenant(tenant), tx -> {
            attempted.clear();
            return body.apply(tx, (key, v) -> {
                ledger.attempt(key, v);
                attempted.add(new Object[] {key, v});
            });
        }));
        for (Object[] write : attempted) {
            acknowledged((WriteLedger.Key) write[0], (Integer) write[1], start);
        }
        return result;
    }

    /** The acknowledged writes' spans so far. */
    List<AuthWorkload.WriteSpan> spans() {
        synchronized (spans) {
            return new ArrayList<>(spans);
        }
    }

    private void acknowledged(WriteLedger.Key key, int v, long startMillis) {
        ledger.acknowledge(key, v);
        spans.add(new AuthWorkload.WriteSpan(key.namespace(), startMillis, System.currentTimeMillis()));
    }
}
