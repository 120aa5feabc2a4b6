package io.shardline.router.wire;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.bson.Document;

import io.shardline.router.ShardRouter;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.Transaction;
import io.shardline.router.internal.DocumentOrder;

/**
 * Driver sessions' transactions, as mongos takes them: a statement with {@code lsid}, {@code txnNumber} and
 * {@code autocommit: false} runs in the session's transaction of that number, the first one (with
 * {@code startTransaction: true}) opening it; {@code commitTransaction} and {@code abortTransaction} end it. A commit
 * sent again for the same number answers as the first did, as drivers expect when they retry one. A statement of a
 * transaction that is not open (aborted by a conflict, or never started) fails with {@code NoSuchTransaction} and
 * the {@code TransientTransactionError} label, so that {@code session.withTransaction} runs the whole transaction again.
 * The statements a transaction runs are {@link WireTransactionStatements}'.
 */
final class WireTransactions {

    static final int NO_SUCH_TRANSACTION = 251;

    private enum State { OPEN, COMMITTED, ABORTED, COMMIT_UNKNOWN }

    /** A session's latest transaction. */
    private static final class Session {
        final long txnNumber;
        final Transaction transaction;
        State state = State.OPEN;

        Session(long txnNumber, Transaction transaction) {
            this.txnNumber = txnNumber;
            this.transaction = transaction;
        }
    }

    private final ShardRouter router;
    private final Map<Document, Session> sessions = new ConcurrentHashMap<>();

    WireTransactions(ShardRouter router) {
        this.router = router;
    }

    /** Whether a command belongs to a transaction: it says {@code autocommit}, or ends one. */
    static boolean inTransaction(String name, Document body) {
        return body.containsKey("autocommit") || body.containsKey("startTransaction")
            || name.equals("commitTransaction") || name.equals("abortTransaction");
    }

    Document run(WireSession session, WireMessage message, Document key) {
        String name = message.commandName();
        Document body = message.command();
        CommandFields fields = new CommandFields(name, body);
        if (key == null || !body.containsKey("txnNumber")) {
            throw new WireCommandException(WireError.INVALID_OPTIONS, name + ": a transaction's statements need lsid and txnNumber");
        }
        if (!Boolean.FALSE.equals(body.get("autocommit"))) {
            throw new WireCommandException(WireError.INVALID_OPTIONS, name + ".autocommit: must be false in a transaction, was " + body.get("autocommit"));
        }
        long txnNumber = fields.integer("txnNumber", 0);
        if (name.equals("commitTransaction") || name.equals("abortTransaction")) {
            return end(key, txnNumber, name.equals("commitTransaction"));
        }
        if (!WireTransactionStatements.NAMES.contains(name)) {
            throw new WireCommandException(WireTransactionStatements.OPERATION_NOT_SUPPORTED_IN_TRANSACTION, name + ": not supported in a "
                + "transaction by the router; transactions run " + new java.util.TreeSet<>(WireTransactionStatements.NAMES));
        }
        Session current = sessions.get(key);
        if (fields.bool("startTransaction", false)) {
            if (current != null && current.txnNumber >= txnNumber) {
                throw new WireCommandException(WireError.INVALID_OPTIONS, "txnNumber " + txnNumber + " is not above the session's latest, "
                    + current.txnNumber);
            }
            if (current != null && current.state == State.OPEN) {
                router.abort(current.transaction);
            }
            // A transaction run again after a conflict (a driver's withTransaction) keeps the priority of its first attempt.
            Transaction transaction = current != null && current.state == State.ABORTED
                ? router.beginAgain(WireWriteConcern.scope(session, body), current.transaction)
                : router.begin(WireWriteConcern.scope(session, body));
            current = new Session(txnNumber, transaction);
            sessions.put(key, current);
        } else if (current == null || current.txnNumber != txnNumber || current.state != State.OPEN) {
            throw noSuchTransaction(txnNumber, current);
        }
        try {
            return WireTransactionStatements.run(current.transaction, message, fields);
        } catch (RuntimeException e) {
            // A failed statement aborts the transaction, as in MongoDB: also one refused here before it ran, after
            // earlier statements took documents.
            current.state = State.ABORTED;
            router.abort(current.transaction);
            throw e;
        }
    }

    private Document end(Document key, long txnNumber, boolean commit) {
        Session current = sessions.get(key);
        if (current == null || current.txnNumber != txnNumber) {
            throw noSuchTransaction(txnNumber, current);
        }
        synchronized (current) {
            if (current.state == State.COMMIT_UNKNOWN) {
                // A commit retried after its outcome was unknown: the coordinator log says it now, or still does not.
                Boolean committed = router.committed(current.transaction.id());
                if (committed != null) {
                    current.state = committed ? State.COMMITTED : State.ABORTED;
                } else if (commit) {
                    throw new RouterException(RouterException.Kind.TRANSACTION_OUTCOME_UNKNOWN, "transaction " + txnNumber
                        + ": not decided on the coordinator log yet; retry the commit");
                }
            }
            if (current.state == State.OPEN) {
                try {
                    if (commit) {
                        router.commit(current.transaction);
                        current.state = State.COMMITTED;
                    } else {
                        router.abort(current.transaction);
                        current.state = State.ABORTED;
                    }
                } catch (RouterException e) {
                    current.state = e.kind() == RouterException.Kind.TRANSACTION_OUTCOME_UNKNOWN ? State.COMMIT_UNKNOWN : State.ABORTED;
                    throw e;
                } catch (RuntimeException e) {
                    current.state = State.ABORTED;
                    throw e;
                }
            } else if (commit && current.state == State.ABORTED) {
                throw noSuchTransaction(txnNumber, current);
            } else if (!commit && current.state != State.ABORTED) {
                throw new WireCommandException(WireError.ILLEGAL_OPERATION, "abortTransaction: transaction " + txnNumber + " is "
                    + current.state.name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        return new Document("ok", 1.0);
    }

    /** Forgets the transactions of sessions the driver ended, aborting any still open. */
    void endSessions(List<Document> keys) {
        for (Document key : keys) {
            Session ended = sessions.remove(key);
            if (ended != null && ended.state == State.OPEN) {
                router.abort(ended.transaction);
            }
        }
    }

    private static RuntimeException noSuchTransaction(long txnNumber, Session current) {
        String why = current == null ? "the session has no transaction" : current.txnNumber != txnNumber
            ? "the session's transaction is number " + current.txnNumber : "it was " + current.state.name().toLowerCase(java.util.Locale.ROOT);
        return new WireCommandException(new WireError(NO_SUCH_TRANSACTION, "NoSuchTransaction",
            "transaction " + txnNumber + " is not open: " + why, List.of(WireError.TRANSIENT_TRANSACTION_ERROR)));
    }
}
