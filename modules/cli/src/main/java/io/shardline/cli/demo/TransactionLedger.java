package io.shardline.cli.demo;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.bson.Document;

import com.mongodb.client.MongoClient;

import io.shardline.controlplane.AuthServiceLayout;
import io.shardline.core.key.KeyHex;
import io.shardline.core.txn.IntentLayout;
import io.shardline.schemas.avro.ChunkRoute;

/**
 * The demo's transactions and how each ended, checked at the end against every shard read directly: a sign-up (the
 * user and its sign-up audit entry) and a user's deletion (the user and its sessions) are whole or absent, never half.
 * <ul>
 *   <li>A committed sign-up: its audit entry is there unless the retention purge deleted it, and so is its user unless
 *   a committed deletion removed it.</li>
 *   <li>An aborted sign-up: neither is.</li>
 *   <li>A committed deletion: its user is gone, and so is every session it deleted.</li>
 *   <li>An aborted deletion: its user is still there unless a committed deletion removed it.</li>
 * </ul>
 * A document counts as there when a copy is on the shard the routing names for its key (a copy left on a shard a
 * range moved from is not), and a document still holding a transaction's intent counts as half.
 */
public final class TransactionLedger {

    /** What the check found. */
    public record Verdict(long committed, long aborted, long unknown, long partial, List<String> examples) {
        public String line() {
            return String.format(Locale.ROOT, "transactions: %,d committed, %,d aborted, %d partial%s (sign-ups and user deletions, "
                + "checked against every shard read directly)", committed, aborted, partial, unknown == 0 ? "" : ", " + unknown + " of unknown outcome");
        }
    }

    record SignUp(String tenant, String userId, String auditId) {
    }

    record Deletion(String tenant, String userId, List<String> sessionIds) {
    }

    private final List<SignUp> committedSignUps = new ArrayList<>();
    private final List<SignUp> abortedSignUps = new ArrayList<>();
    private final List<Deletion> committedDeletions = new ArrayList<>();
    private final List<Deletion> abortedDeletions = new ArrayList<>();
    private final AtomicLong unknown = new AtomicLong();

    synchronized void signedUp(SignUp signUp, boolean committed) {
        (committed ? committedSignUps : abortedSignUps).add(signUp);
    }

    synchronized void deleted(Deletion deletion, boolean committed) {
        (committed ? committedDeletions : abortedDeletions).add(deletion);
    }

    /** A transaction whose commit could not learn its decision. */
    void unknown() {
        unknown.incrementAndGet();
    }

    public synchronized long committed() {
        return committedSignUps.size() + committedDeletions.size();
    }

    /** Reads every document of the transactions from every shard, each where the routing says it lives. */
    /** @param purged whether the retention purge deleted an audit entry of that id */
    public synchronized Verdict check(Map<String, MongoClient> shards, Collection<ChunkRoute> routing, java.util.function.Predicate<String> purged) {
        resolvedBy = System.nanoTime() + RESOLUTION_WAIT.toNanos();
        Set<String> deletedUsers = new HashSet<>();
        committedDeletions.forEach(deletion -> deletedUsers.add(deletion.userId()));
        List<String> partial = new ArrayList<>();
        for (SignUp signUp : committedSignUps) {
            State user = state(shards, routing, AuthServiceLayout.USERS, signUp.userId());
            State entry = state(shards, routing, AuthServiceLayout.AUDIT_ENTRIES, signUp.auditId());
            boolean entryRight = entry == State.THERE || entry == State.ABSENT && purged.test(signUp.auditId());
            if (!entryRight || user == State.HELD || user == State.ABSENT && !deletedUsers.contains(signUp.userId())) {
                partial.add("committed sign-up of " + signUp.userId() + ": user " + user + ", audit entry " + entry);
            }
        }
        for (SignUp signUp : abortedSignUps) {
            State user = state(shards, routing, AuthServiceLayout.USERS, signUp.userId());
            State entry = state(shards, routing, AuthServiceLayout.AUDIT_ENTRIES, signUp.auditId());
            if (user != State.ABSENT || entry != State.ABSENT) {
                partial.add("aborted sign-up of " + signUp.userId() + ": user " + user + ", audit entry " + entry);
            }
        }
        for (Deletion deletion : committedDeletions) {
            State user = state(shards, routing, AuthServiceLayout.USERS, deletion.userId());
            List<String> left = deletion.sessionIds().stream()
                .filter(id -> state(shards, routing, AuthServiceLayout.SESSIONS, id) != State.ABSENT).toList();
            if (user != State.ABSENT || !left.isEmpty()) {
                partial.add("committed deletion of " + deletion.userId() + ": user " + user + ", sessions left " + left);
            }
        }
        for (Deletion deletion : abortedDeletions) {
            State user = state(shards, routing, AuthServiceLayout.USERS, deletion.userId());
            if (user == State.HELD || user == State.ABSENT && !deletedUsers.contains(deletion.userId())) {
                partial.add("aborted deletion of " + deletion.userId() + ": user " + user);
            }
        }
        return new Verdict(committed(), abortedSignUps.size() + abortedDeletions.size(), unknown.get(), partial.size(),
            partial.stream().limit(5).toList());
    }

    private enum State { THERE, ABSENT, HELD }

    /** How long after a check begins a document a transaction still holds may take to be released. */
    private static final java.time.Duration RESOLUTION_WAIT = java.time.Duration.ofSeconds(5);
    private long resolvedBy;

    /**
     * Where a document is, read from the shard the routing names. A document still held is read again until
     * {@link #RESOLUTION_WAIT} has passed since the check began: a commit answers at its decision, and its intents
     * are resolved right after.
     */
    private State state(Map<String, MongoClient> shards, Collection<ChunkRoute> routing, String namespace, String id) {
        State state = stateNow(shards, routing, namespace, id);
        while (state == State.HELD && System.nanoTime() < resolvedBy) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return state;
            }
            state = stateNow(shards, routing, namespace, id);
        }
        return state;
    }

    private static State stateNow(Map<String, MongoClient> shards, Collection<ChunkRoute> routing, String namespace, String id) {
        int dot = namespace.indexOf('.');
        for (Map.Entry<String, MongoClient> shard : shards.entrySet()) {
            Document stored = shard.getValue().getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1))
                .find(new Document("_id", id)).first();
            if (stored != null && shard.getKey().equals(owner(routing, namespace, stored.getString("_sk")))) {
                return stored.containsKey(IntentLayout.FIELD) ? State.HELD : State.THERE;
            }
        }
        return State.ABSENT;
    }

    private static String owner(Collection<ChunkRoute> routing, String namespace, String key) {
        if (key == null) {
            return null;
        }
        return routing.stream().filter(route -> route.getNamespace().equals(namespace))
            .filter(route -> key.compareTo(KeyHex.of(route.getMin())) >= 0 && (route.getMax() == null || key.compareTo(KeyHex.of(route.getMax())) < 0))
            .map(ChunkRoute::getShardId).findFirst().orElse(null);
    }
}
