package io.shardline.cli.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;

import io.micrometer.core.instrument.Timer;
import io.shardline.controlplane.AuthServiceLayout;
import io.shardline.router.ShardRouter;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.RouterException;
import io.shardline.worker.check.WriteLedger;

/**
 * The clients' request mix: which request comes next in a phase (in quiet hours mostly reads, the odd login), and
 * sending it through the router. Writes go through {@link LedgerWrites}; reads are timed as single-shard (a profile) or
 * scatter (a tenant's active sessions, from every shard), each half through the router's Java API and half through
 * its wire protocol with the MongoDB driver, where the service names its tenant in the filter itself.
 */
final class AuthRequests {

    /** The read timers, per kind and path. */
    record Latencies(Timer singleShard, Timer scatter, Timer singleShardWire, Timer scatterWire) {
    }

    private final ShardRouter router;
    private final MongoClient wire;
    private final TenantMix tenants;
    private final AuthDocuments documents;
    private final WrittenIds ids;
    private final LedgerWrites writes;
    private final Latencies latencies;
    private final TransactionLedger transactions;

    AuthRequests(ShardRouter router, MongoClient wire, TenantMix tenants, AuthDocuments documents, WrittenIds ids, LedgerWrites writes,
                 Latencies latencies, TransactionLedger transactions) {
        this.transactions = transactions;
        this.router = router;
        this.wire = wire;
        this.tenants = tenants;
        this.documents = documents;
        this.ids = ids;
        this.writes = writes;
        this.latencies = latencies;
    }

    /** Sends one request of a random tenant, chosen for the phase; throws when it fails. */
    void next(SplittableRandom random, AuthWorkload.Phase phase) {
        String tenant = tenants.next(random);
        int choice = random.nextInt(100);
        if (phase != AuthWorkload.Phase.GROW) {
            // Quiet hours: mostly reads, the odd login.
            choice = choice < 60 ? 85 : choice < 80 ? 97 : 20;
        }
        if (choice < 33) {
            audit(tenant, random);
        } else if (choice < 35) {
            deleteUser(tenant, random);
        } else if (choice < 55) {
            login(tenant, random);
        } else if (choice < 63) {
            signUp(tenant, random);
        } else if (choice < 73) {
            updateProfile(tenant, random);
        } else if (choice < 80) {
            touchSession(tenant, random);
        } else if (choice < 95) {
            readProfile(tenant, random);
        } else {
            listSessions(tenant, random);
        }
    }

    /** A sign-up is one transaction: the user (sharded by tenant) and its audit entry (by tenant and hour), or neither. */
    private void signUp(String tenant, SplittableRandom random) {
        Document user = documents.user(tenant, random);
        Document entry = documents.auditEntry(tenant, user.getString("_id"), "signup", random);
        TransactionLedger.SignUp signUp = new TransactionLedger.SignUp(tenant, user.getString("_id"), entry.getString("_id"));
        try {
            writes.transaction(tenant, (tx, attempt) -> {
                attempt.accept(new WriteLedger.Key(AuthServiceLayout.USERS, signUp.userId()), user.getInteger("v"));
                tx.insert(AuthServiceLayout.USERS, List.of(user));
                attempt.accept(new WriteLedger.Key(AuthServiceLayout.AUDIT_ENTRIES, signUp.auditId()), entry.getInteger("v"));
                tx.insert(AuthServiceLayout.AUDIT_ENTRIES, List.of(entry));
                return null;
            });
        } catch (RuntimeException failed) {
            ended(failed, () -> transactions.signedUp(signUp, false));
            throw failed;
        }
        transactions.signedUp(signUp, true);
        ids.remember(tenant, AuthServiceLayout.USERS, user);
        ids.remember(tenant, AuthServiceLayout.AUDIT_ENTRIES, entry);
    }

    /** A user's deletion is one transaction: the user and every session of it (hashed by user, so on other shards), or none. */
    private void deleteUser(String tenant, SplittableRandom random) {
        String user = ids.user(tenant, random);
        if (user == null) {
            return;
        }
        ids.forgetUser(tenant, user);
        List<String> deletedSessions = new ArrayList<>();
        try {
            writes.transaction(tenant, (tx, attempt) -> {
                deletedSessions.clear();
                for (Document session : tx.find(AuthServiceLayout.SESSIONS, new Document("userId", user))) {
                    deletedSessions.add(session.getString("_id"));
                    attempt.accept(new WriteLedger.Key(AuthServiceLayout.SESSIONS, session.getString("_id")), WriteLedger.DELETED);
                }
                attempt.accept(new WriteLedger.Key(AuthServiceLayout.USERS, user), WriteLedger.DELETED);
                tx.delete(AuthServiceLayout.USERS, new Document("_id", user), false);
                if (!deletedSessions.isEmpty()) {
                    tx.delete(AuthServiceLayout.SESSIONS, new Document("userId", user).append("_id", new Document("$in", deletedSessions)), true);
                }
                return null;
            });
        } catch (RuntimeException failed) {
            ended(failed, () -> transactions.deleted(new TransactionLedger.Deletion(tenant, user, List.copyOf(deletedSessions)), false));
            throw failed;
        }
        transactions.deleted(new TransactionLedger.Deletion(tenant, user, List.copyOf(deletedSessions)), true);
    }

    /** Notes a failed transaction as aborted, unless its commit could not learn whether it was decided. */
    private void ended(RuntimeException failed, Runnable aborted) {
        if (failed instanceof RouterException router && router.kind() == RouterException.Kind.TRANSACTION_OUTCOME_UNKNOWN) {
            transactions.unknown();
        } else {
            aborted.run();
        }
    }

    private void login(String tenant, SplittableRandom random) {
        String user = ids.user(tenant, random);
        if (user == null) {
            signUp(tenant, random);
            return;
        }
        insert(tenant, AuthServiceLayout.SESSIONS, documents.session(tenant, user, random));
        insert(tenant, AuthServiceLayout.AUDIT_ENTRIES, documents.auditEntry(tenant, user, "login", random));
    }

    private void audit(String tenant, SplittableRandom random) {
        String user = ids.user(tenant, random);
        insert(tenant, AuthServiceLayout.AUDIT_ENTRIES, documents.auditEntry(tenant, user == null ? "system" : user, "profile.viewed", random));
    }

    private void updateProfile(String tenant, SplittableRandom random) {
        String user = ids.user(tenant, random);
        if (user == null) {
            return;
        }
        writes.set(tenant, AuthServiceLayout.USERS, new Document("_id", user), random.nextInt(1_000_000), "lastLoginAt");
    }

    private void touchSession(String tenant, SplittableRandom random) {
        String[] session = ids.session(tenant, random);
        if (session == null) {
            return;
        }
        writes.set(tenant, AuthServiceLayout.SESSIONS, new Document("_id", session[0]).append("userId", session[1]), random.nextInt(1_000_000),
            "lastSeenAt");
    }

    private void readProfile(String tenant, SplittableRandom random) {
        String user = ids.user(tenant, random);
        if (user == null) {
            return;
        }
        if (random.nextBoolean()) {
            latencies.singleShardWire().record(() -> collection(AuthServiceLayout.USERS)
                .find(new Document("_id", user).append(AuthServiceLayout.TENANT_FIELD, tenant)).first());
        } else {
            latencies.singleShard().record(() -> router.find(tenant, AuthServiceLayout.USERS, FindRequest.of(new Document("_id", user))));
        }
    }

    private void listSessions(String tenant, SplittableRandom random) {
        if (random.nextBoolean()) {
            latencies.scatterWire().record(() -> collection(AuthServiceLayout.SESSIONS)
                .find(new Document(AuthServiceLayout.TENANT_FIELD, tenant)).sort(new Document("lastSeenAt", -1)).limit(20)
                .into(new ArrayList<>()));
        } else {
            latencies.scatter().record(() -> router.find(tenant, AuthServiceLayout.SESSIONS, new FindRequest(new Document(),
                new Document("lastSeenAt", -1), 0, 20, null, false)));
        }
    }

    private MongoCollection<Document> collection(String namespace) {
        int dot = namespace.indexOf('.');
        return wire.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1));
    }

    private void insert(String tenant, String namespace, Document document) {
        writes.insert(tenant, namespace, List.of(document));
        ids.remember(tenant, namespace, document);
    }
}
