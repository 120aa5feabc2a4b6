package io.shardline.router.http;

import java.util.ArrayList;
import java.util.List;

import org.bson.Document;

import io.shardline.router.ShardRouter;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.Scope;
import io.shardline.router.api.Transaction;

/**
 * Transactions over HTTP: {@code POST /v1/transactions} runs a list of operations as one transaction (run again from
 * its start while it meets conflicts), and {@code POST /v1/transactions/begin}, {@code POST /v1/transactions/{id}}
 * (operations), {@code POST /v1/transactions/{id}/commit} and {@code .../abort} run one interactively, on the router
 * that began it. An operation is {@code {"op": "insert"|"update"|"delete"|"find", "namespace": "db.coll", ...}} with
 * the fields of the same operation outside a transaction ({@code documents}; {@code filter}, {@code update},
 * {@code multi}); each answers {@code {"inserted"}}, {@code {"matched"}}, {@code {"deleted"}} or {@code {"documents"}}.
 */
final class TransactionRequests {

    static final List<String> STATEMENTS = List.of("insert", "update", "delete", "find");

    private record Statement(String op, String namespace, RequestBody fields) {
    }

    private TransactionRequests() {
    }

    /** Runs every operation of the body in one transaction, and commits it. */
    static Document oneShot(ShardRouter router, Scope scope, RequestBody body) {
        List<Statement> statements = statements(body);
        List<Document> results = router.inTransaction(scope, tx -> run(tx, statements));
        return new Document("results", results);
    }

    static Document begin(ShardRouter router, Scope scope) {
        Transaction transaction = router.begin(scope);
        return new Document("transactionId", transaction.id()).append("routerId", router.routerId());
    }

    /** Runs the body's operations in the open transaction {@code txnId}; a failed one aborts it. */
    static Document statements(ShardRouter router, Scope scope, String txnId, RequestBody body) {
        Transaction transaction = open(router, scope, txnId);
        try {
            return new Document("results", run(transaction, statements(body)));
        } catch (RuntimeException e) {
            // A refused operation aborts the transaction, as a failed statement does: also one refused before it ran.
            router.abort(transaction);
            throw e;
        }
    }

    static Document commit(ShardRouter router, Scope scope, String txnId) {
        router.commit(open(router, scope, txnId));
        return new Document("transactionId", txnId).append("outcome", "committed");
    }

    static Document abort(ShardRouter router, Scope scope, String txnId) {
        router.abort(open(router, scope, txnId));
        return new Document("transactionId", txnId).append("outcome", "aborted");
    }

    private static Transaction open(ShardRouter router, Scope scope, String txnId) {
        Transaction transaction = router.transaction(txnId, scope);
        if (transaction == null) {
            throw new RouterException(RouterException.Kind.NOT_FOUND, "transaction: no open transaction " + txnId + " of this caller on router "
                + router.routerId() + " (it ended, or another router began it)");
        }
        return transaction;
    }

    private static List<Statement> statements(RequestBody body) {
        List<Document> operations = body.documents("operations");
        List<Statement> statements = new ArrayList<>(operations.size());
        for (int i = 0; i < operations.size(); i++) {
            RequestBody fields = body.part("operations", i, operations.get(i));
            String op = fields.string("op");
            if (!STATEMENTS.contains(op)) {
                throw new RouterException(RouterException.Kind.BAD_REQUEST, "operations[" + i + "].op: '" + op + "' is not one of " + STATEMENTS);
            }
            String namespace = fields.string("namespace");
            if (namespace.indexOf('.') < 1 || namespace.endsWith(".")) {
                throw new RouterException(RouterException.Kind.BAD_REQUEST, "operations[" + i + "].namespace: '" + namespace
                    + "' is not <database>.<collection>");
            }
            statements.add(new Statement(op, namespace, fields));
        }
        return statements;
    }

    private static List<Document> run(Transaction tx, List<Statement> statements) {
        List<Document> results = new ArrayList<>(statements.size());
        for (Statement statement : statements) {
            RequestBody fields = statement.fields();
            Document filter = fields.document("filter") == null ? new Document() : fields.document("filter");
            results.add(switch (statement.op()) {
                case "insert" -> {
                    List<Document> documents = fields.documents("documents");
                    tx.insert(statement.namespace(), documents);
                    yield new Document("inserted", documents.size());
                }
                case "update" -> new Document("matched", tx.update(statement.namespace(), filter, fields.requiredDocument("update"),
                    fields.bool("multi", false)));
                case "delete" -> new Document("deleted", tx.delete(statement.namespace(), filter, fields.bool("multi", false)));
                default -> new Document("documents", tx.find(statement.namespace(), filter));
            });
        }
        return results;
    }
}
