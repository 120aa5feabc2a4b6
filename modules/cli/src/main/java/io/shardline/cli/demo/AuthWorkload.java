package io.shardline.cli.demo;

import io.shardline.worker.check.WriteLedger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardline.controlplane.AuthServiceLayout;
import io.shardline.router.api.FindRequest;
import io.shardline.router.ShardRouter;

/**
 * A multi-tenant auth service's traffic, through the router: sign-ups, logins (a session each), session touches,
 * audit entries, profile reads (one shard) and "active sessions of a tenant" listings (every shard). Tenant sizes are
 * skewed (Zipf), so the shard holding the biggest tenants fills first. Every acknowledged write goes into the
 * {@link WriteLedger}; latencies go to Micrometer timers.
 *
 * <p>Phases: {@link Phase#GROW} at the full rate; {@link Phase#RETENTION} purges every session and audit entry written so
 * far (expired sessions, audit entries past their retention), once; {@link Phase#QUIET} at a trickle.
 */
public final class AuthWorkload implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AuthWorkload.class);

    /** The traffic's phase. */
    public enum Phase { GROW, RETENTION, QUIET }

    /** The tenants, the biggest first; their first letters spread them over the tenant ranges. */
    static final List<String> TENANTS = List.of("acme", "bluebird", "cobalt", "umbrella", "globex", "initech", "hooli", "stark",
        "wayne", "zenith", "kappa", "nimbus", "orbit", "pioneer", "quartz", "raven", "tyrell", "vertex", "yonder", "delta");

    private static final String PAD = "x".repeat(160);
    private static final int RETENTION_BATCH = 100;
    private static final int SEED_BATCH = 200;

    private final ShardRouter router;
    private final WriteLedger ledger;
    private final int ratePerSecond;
    private final int quietRatePerSecond;
    private final double[] tenantWeights;
    private final AtomicReference<Phase> phase = new AtomicReference<>(Phase.GROW);
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, List<String>> users = new ConcurrentHashMap<>();
    private final Map<String, List<String[]>> sessions = new ConcurrentHashMap<>();
    private final Map<String, List<String>> auditEntries = new ConcurrentHashMap<>();
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong purged = new AtomicLong();
    private final List<WriteSpan> writes = Collections.synchronizedList(new ArrayList<>());
    private final Timer singleShard;
    private final Timer scatter;
    private final Timer write;
    private volatile boolean retentionDone;

    /** One acknowledged write: namespace, start and end (epoch millis). */
    public record WriteSpan(String namespace, long startMillis, long endMillis) {
    }

    /**
     * @param ratePerSecond      operations per second in {@link Phase#GROW}
     * @param quietRatePerSecond operations per second in {@link Phase#QUIET}
     * @param threads            concurrent clients
     * @param seed               the random seed of every choice the workload makes
     */
    public AuthWorkload(ShardRouter router, WriteLedger ledger, MeterRegistry meters, int ratePerSecond, int quietRatePerSecond,
                        int threads, long seed) {
        if (ratePerSecond < 1 || quietRatePerSecond < 1 || threads < 1) {
            throw new IllegalArgumentException("rate, quiet rate and threads must be positive");
        }
        this.router = router;
        this.ledger = ledger;
        this.ratePerSecond = ratePerSecond;
        this.quietRatePerSecond = quietRatePerSecond;
        this.tenantWeights = zipf(TENANTS.size(), 1.3);
        this.singleShard = latency(meters, "single_shard");
        this.scatter = latency(meters, "scatter");
        this.write = latency(meters, "write");
        for (String tenant : TENANTS) {
            users.put(tenant, Collections.synchronizedList(new ArrayList<>()));
            sessions.put(tenant, Collections.synchronizedList(new ArrayList<>()));
            auditEntries.put(tenant, Collections.synchronizedList(new ArrayList<>()));
        }
        for (int t = 0; t < threads; t++) {
            SplittableRandom random = new SplittableRandom(seed + t);
            Thread client = new Thread(() -> run(random, threads), "demo-client-" + t);
            client.setDaemon(true);
            this.threads.add(client);
        }
    }

    private static Timer latency(MeterRegistry meters, String kind) {
        return Timer.builder("demo_request_latency_seconds").description("Latency of the demo workload's requests through the router")
            .tag("kind", kind).publishPercentiles(0.5, 0.99).distributionStatisticExpiry(Duration.ofHours(6))
            .distributionStatisticBufferLength(1).register(meters);
    }

    /**
     * Loads the service's existing data through the router, in batches: users, sessions and audit entries of every
     * tenant (Zipf-sized) until about {@code targetBytes} of documents are written. Returns the documents written.
     */
    public long seed(long targetBytes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long bytes = 0;
        long documents = 0;
        while (bytes < targetBytes) {
            String tenant = tenant(random);
            List<Document> batch = new ArrayList<>();
            int kind = random.nextInt(10);
            for (int i = 0; i < SEED_BATCH; i++) {
                if (kind < 2 || users.get(tenant).isEmpty()) {
                    batch.add(user(tenant, random));
                } else if (kind < 6) {
                    batch.add(session(tenant, pick(users.get(tenant), random), random));
                } else {
                    batch.add(auditEntry(tenant, pick(users.get(tenant), random), "login", random));
                }
            }
            String namespace = kind < 2 || users.get(tenant).isEmpty() ? AuthServiceLayout.USERS
                : kind < 6 ? AuthServiceLayout.SESSIONS : AuthServiceLayout.AUDIT_ENTRIES;
            List<WriteLedger.Key> keys = batch.stream().map(doc -> new WriteLedger.Key(namespace, doc.getString("_id"))).toList();
            for (int i = 0; i < batch.size(); i++) {
                ledger.attempt(keys.get(i), batch.get(i).getInteger("v"));
            }
            long start = System.currentTimeMillis();
            write.record(() -> router.insert(tenant, namespace, batch));
            for (int i = 0; i < batch.size(); i++) {
                acknowledged(keys.get(i), batch.get(i).getInteger("v"), start);
                remember(tenant, namespace, batch.get(i));
                bytes += batch.get(i).toJson().length();
            }
            documents += batch.size();
        }
        return documents;
    }

    /** Starts the clients. */
    public void start() {
        threads.forEach(Thread::start);
    }

    public Phase phase() {
        return phase.get();
    }

    /** Moves to a phase; {@link Phase#RETENTION} moves on to {@link Phase#QUIET} by itself once the purge is done. */
    public void enter(Phase next) {
        phase.set(next);
    }

    public boolean retentionDone() {
        return retentionDone;
    }

    public long failures() {
        return failures.get();
    }

    public long purged() {
        return purged.get();
    }

    public long operations() {
        return singleShard.count() + scatter.count() + write.count();
    }

    public Timer singleShardLatency() {
        return singleShard;
    }

    public Timer scatterLatency() {
        return scatter;
    }

    public Timer writeLatency() {
        return write;
    }

    /** The acknowledged writes' spans, for the write stall around each fence. */
    public List<WriteSpan> writes() {
        synchronized (writes) {
            return new ArrayList<>(writes);
        }
    }

    private void run(SplittableRandom random, int threadCount) {
        long next = System.nanoTime();
        while (running.get()) {
            Phase current = phase.get();
            if (current == Phase.RETENTION && Thread.currentThread() == threads.get(0)) {
                purge();
                retentionDone = true;
                phase.compareAndSet(Phase.RETENTION, Phase.QUIET);
                continue;
            }
            try {
                operate(random, current);
            } catch (RuntimeException failed) {
                failures.incrementAndGet();
                LOG.debug("request failed: {}", failed.getMessage());
            }
            int rate = current == Phase.GROW ? ratePerSecond : quietRatePerSecond;
            next += 1_000_000_000L * threadCount / rate;
            long sleep = next - System.nanoTime();
            if (sleep > 0) {
                try {
                    Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            } else if (sleep < -1_000_000_000L) {
                next = System.nanoTime();
            }
        }
    }

    private void operate(SplittableRandom random, Phase current) {
        String tenant = tenant(random);
        int choice = random.nextInt(100);
        if (current != Phase.GROW) {
            // Quiet hours: mostly reads, the odd login.
            choice = choice < 60 ? 85 : choice < 80 ? 97 : 20;
        }
        if (choice < 35) {
            audit(tenant, random);
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
            listSessions(tenant);
        }
    }

    private void signUp(String tenant, SplittableRandom random) {
        Document user = user(tenant, random);
        insert(tenant, AuthServiceLayout.USERS, user);
    }

    private Document user(String tenant, SplittableRandom random) {
        String id = tenant + "-u" + sequence.incrementAndGet();
        return new Document("_id", id).append("tenantId", tenant).append("email", id + "@" + tenant + ".example")
            .append("name", "User " + id).append("roles", List.of("member")).append("createdAt", System.currentTimeMillis())
            .append("v", random.nextInt(1_000_000));
    }

    private void login(String tenant, SplittableRandom random) {
        String user = pick(users.get(tenant), random);
        if (user == null) {
            signUp(tenant, random);
            return;
        }
        insert(tenant, AuthServiceLayout.SESSIONS, session(tenant, user, random));
        insert(tenant, AuthServiceLayout.AUDIT_ENTRIES, auditEntry(tenant, user, "login", random));
    }

    private Document session(String tenant, String user, SplittableRandom random) {
        String id = tenant + "-s" + sequence.incrementAndGet();
        long now = System.currentTimeMillis();
        return new Document("_id", id).append("tenantId", tenant).append("userId", user)
            .append("tokenHash", Long.toHexString(random.nextLong()) + Long.toHexString(random.nextLong()))
            .append("createdAt", now).append("lastSeenAt", now).append("expiresAt", now + 3_600_000L).append("v", random.nextInt(1_000_000));
    }

    private void audit(String tenant, SplittableRandom random) {
        String user = pick(users.get(tenant), random);
        insert(tenant, AuthServiceLayout.AUDIT_ENTRIES, auditEntry(tenant, user == null ? "system" : user, "profile.viewed", random));
    }

    private Document auditEntry(String tenant, String user, String action, SplittableRandom random) {
        String id = tenant + "-a" + sequence.incrementAndGet();
        return new Document("_id", id).append("tenantId", tenant).append("at", System.currentTimeMillis()).append("userId", user)
            .append("action", action).append("ip", "10." + random.nextInt(256) + "." + random.nextInt(256) + "." + random.nextInt(256))
            .append("detail", PAD).append("v", random.nextInt(1_000_000));
    }

    private void updateProfile(String tenant, SplittableRandom random) {
        String user = pick(users.get(tenant), random);
        if (user == null) {
            return;
        }
        int v = random.nextInt(1_000_000);
        WriteLedger.Key key = new WriteLedger.Key(AuthServiceLayout.USERS, user);
        ledger.attempt(key, v);
        long start = System.currentTimeMillis();
        write.record(() -> router.update(tenant, AuthServiceLayout.USERS, new Document("_id", user),
            new Document("$set", new Document("v", v).append("lastLoginAt", System.currentTimeMillis())), false, false));
        acknowledged(key, v, start);
    }

    private void touchSession(String tenant, SplittableRandom random) {
        String[] session = pick(sessions.get(tenant), random);
        if (session == null) {
            return;
        }
        int v = random.nextInt(1_000_000);
        WriteLedger.Key key = new WriteLedger.Key(AuthServiceLayout.SESSIONS, session[0]);
        ledger.attempt(key, v);
        long start = System.currentTimeMillis();
        write.record(() -> router.update(tenant, AuthServiceLayout.SESSIONS, new Document("_id", session[0]).append("userId", session[1]),
            new Document("$set", new Document("v", v).append("lastSeenAt", System.currentTimeMillis())), false, false));
        acknowledged(key, v, start);
    }

    private void readProfile(String tenant, SplittableRandom random) {
        String user = pick(users.get(tenant), random);
        if (user == null) {
            return;
        }
        singleShard.record(() -> router.find(tenant, AuthServiceLayout.USERS, FindRequest.of(new Document("_id", user))));
    }

    private void listSessions(String tenant) {
        scatter.record(() -> router.find(tenant, AuthServiceLayout.SESSIONS, new FindRequest(new Document(),
            new Document("lastSeenAt", -1), 0, 20, null, false)));
    }

    private void insert(String tenant, String namespace, Document document) {
        WriteLedger.Key key = new WriteLedger.Key(namespace, document.getString("_id"));
        int v = document.getInteger("v");
        ledger.attempt(key, v);
        long start = System.currentTimeMillis();
        write.record(() -> router.insert(tenant, namespace, List.of(document)));
        acknowledged(key, v, start);
        remember(tenant, namespace, document);
    }

    /** Keeps the ids later requests pick from, and retention purges. */
    private void remember(String tenant, String namespace, Document document) {
        switch (namespace) {
            case AuthServiceLayout.USERS -> users.get(tenant).add(document.getString("_id"));
            case AuthServiceLayout.SESSIONS -> sessions.get(tenant).add(new String[] {document.getString("_id"), document.getString("userId")});
            default -> auditEntries.get(tenant).add(document.getString("_id"));
        }
    }

    private void acknowledged(WriteLedger.Key key, int v, long startMillis) {
        ledger.acknowledge(key, v);
        writes.add(new WriteSpan(key.namespace(), startMillis, System.currentTimeMillis()));
    }

    /** Deletes every session and audit entry written so far, tenant by tenant, in batches of ids. */
    private void purge() {
        for (String tenant : TENANTS) {
            purge(tenant, AuthServiceLayout.AUDIT_ENTRIES, drain(auditEntries.get(tenant)));
            List<String> ids = new ArrayList<>();
            for (String[] session : drain(sessions.get(tenant))) {
                ids.add(session[0]);
            }
            purge(tenant, AuthServiceLayout.SESSIONS, ids);
        }
    }

    private void purge(String tenant, String namespace, List<String> ids) {
        for (int from = 0; from < ids.size() && running.get(); from += RETENTION_BATCH) {
            List<String> batch = ids.subList(from, Math.min(ids.size(), from + RETENTION_BATCH));
            List<WriteLedger.Key> keys = batch.stream().map(id -> new WriteLedger.Key(namespace, id)).toList();
            keys.forEach(key -> ledger.attempt(key, WriteLedger.DELETED));
            try {
                long start = System.currentTimeMillis();
                write.record(() -> router.delete(tenant, namespace, new Document("_id", new Document("$in", batch)), true));
                keys.forEach(key -> acknowledged(key, WriteLedger.DELETED, start));
                purged.addAndGet(batch.size());
            } catch (RuntimeException failed) {
                failures.incrementAndGet();
                LOG.debug("purge of {} {} failed: {}", tenant, namespace, failed.getMessage());
            }
        }
    }

    private static <T> List<T> drain(List<T> list) {
        synchronized (list) {
            List<T> copy = new ArrayList<>(list);
            list.clear();
            return copy;
        }
    }

    private String tenant(SplittableRandom random) {
        double r = random.nextDouble();
        for (int i = 0; i < tenantWeights.length; i++) {
            r -= tenantWeights[i];
            if (r <= 0) {
                return TENANTS.get(i);
            }
        }
        return TENANTS.get(TENANTS.size() - 1);
    }

    private static <T> T pick(List<T> list, SplittableRandom random) {
        synchronized (list) {
            return list.isEmpty() ? null : list.get(random.nextInt(list.size()));
        }
    }

    /** Normalized Zipf weights of {@code n} ranks with exponent {@code s}. */
    static double[] zipf(int n, double s) {
        double[] weights = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            weights[i] = 1 / Math.pow(i + 1, s);
            sum += weights[i];
        }
        for (int i = 0; i < n; i++) {
            weights[i] /= sum;
        }
        return weights;
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread thread : threads) {
            thread.join(30_000);
        }
    }
}
