package io.shardline.cli.demo;

import io.shardline.worker.check.WriteLedger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.shardline.router.ShardRouter;

/**
 * A multi-tenant auth service's traffic, through the router: sign-ups, logins (a session each), session touches,
 * audit entries, profile reads (one shard) and "active sessions of a tenant" listings (every shard). Tenant sizes are
 * skewed (Zipf), so the shard holding the biggest tenants fills first. Every acknowledged write goes into the
 * {@link WriteLedger}; latencies go to Micrometer timers.
 *
 * <p>Phases: {@link Phase#GROW} at the full rate; {@link Phase#RETENTION} purges every session and audit entry written so
 * far (expired sessions, audit entries past their retention), once; {@link Phase#QUIET} at a trickle.
 *
 * <p>This class owns the client threads, their pacing and the phases; the requests are {@link AuthRequests}', the
 * existing data {@link AuthSeed}'s, the purge {@link Retention}'s.
 */
public final class AuthWorkload implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AuthWorkload.class);

    /** The traffic's phase. */
    public enum Phase { GROW, RETENTION, QUIET }

    private final int ratePerSecond;
    private final int quietRatePerSecond;
    private final AtomicReference<Phase> phase = new AtomicReference<>(Phase.GROW);
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final Failures failures = new Failures();
    private final Timer singleShard;
    private final Timer scatter;
    private final Timer singleShardWire;
    private final Timer scatterWire;
    private final Timer write;
    private final MongoClient wire;
    private final LedgerWrites writes;
    private final AuthSeed existingData;
    private final AuthRequests requests;
    private final Retention retention;
    private volatile boolean retentionDone;
    private final TransactionLedger transactions = new TransactionLedger();

    /** One acknowledged write: namespace, start and end (epoch millis). */
    public record WriteSpan(String namespace, long startMillis, long endMillis) {
    }

    /**
     * @param ratePerSecond      operations per second in {@link Phase#GROW}
     * @param quietRatePerSecond operations per second in {@link Phase#QUIET}
     * @param threads            concurrent clients
     * @param seed               the random seed of every choice the workload makes
     * @param mongoRouterUri     the router's wire protocol: half the profile reads and session listings go there, through
     *                           the MongoDB driver, as the auth service itself would send them
     */
    public AuthWorkload(ShardRouter router, String mongoRouterUri, WriteLedger ledger, MeterRegistry meters, int ratePerSecond,
                        int quietRatePerSecond, int threads, long seed) {
        if (ratePerSecond < 1 || quietRatePerSecond < 1 || threads < 1) {
            throw new IllegalArgumentException("rate, quiet rate and threads must be positive");
        }
        this.ratePerSecond = ratePerSecond;
        this.quietRatePerSecond = quietRatePerSecond;
        this.singleShard = latency(meters, "single_shard");
        this.scatter = latency(meters, "scatter");
        this.singleShardWire = latency(meters, "single_shard_wire");
        this.scatterWire = latency(meters, "scatter_wire");
        this.write = latency(meters, "write");
        this.wire = MongoClients.create(mongoRouterUri);
        TenantMix tenants = new TenantMix();
        AuthDocuments documents = new AuthDocuments();
        WrittenIds ids = new WrittenIds(TenantMix.TENANTS);
        this.writes = new LedgerWrites(router, ledger, write);
        this.existingData = new AuthSeed(tenants, documents, ids, writes);
        this.requests = new AuthRequests(router, wire, tenants, documents, ids, writes,
            new AuthRequests.Latencies(singleShard, scatter, singleShardWire, scatterWire), transactions);
        this.retention = new Retention(ids, writes, failures);
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
        return existingData.load(targetBytes, seed);
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
        return failures.total();
    }

    /** The failed requests by kind, e.g. {@code "RETRYABLE 2"}; empty when none failed. */
    public String failureKinds() {
        return failures.summary();
    }

    public long purged() {
        return retention.purged();
    }

    /** The retention purge's retries of batches that failed (while a shard was down, say). */
    public long purgeRetries() {
        return retention.retried();
    }

    public long operations() {
        return singleShard.count() + scatter.count() + singleShardWire.count() + scatterWire.count() + write.count();
    }

    public Timer singleShardLatency() {
        return singleShard;
    }

    public Timer scatterLatency() {
        return scatter;
    }

    /** Profile reads through the wire router (the MongoDB driver). */
    public Timer singleShardWireLatency() {
        return singleShardWire;
    }

    /** Session listings through the wire router (the MongoDB driver). */
    public Timer scatterWireLatency() {
        return scatterWire;
    }

    public Timer writeLatency() {
        return write;
    }

    /** The acknowledged writes' spans, for the write stall around each fence. */
    /** The sign-ups and user deletions the workload ran as transactions, and how each ended. */
    public TransactionLedger transactions() {
        return transactions;
    }

    /** Whether the retention purge deleted the document of that id. */
    public boolean purged(String id) {
        return retention.purged(id);
    }

    public List<WriteSpan> writes() {
        return writes.spans();
    }

    private void run(SplittableRandom random, int threadCount) {
        long next = System.nanoTime();
        while (running.get()) {
            Phase current = phase.get();
            if (current == Phase.RETENTION && Thread.currentThread() == threads.get(0)) {
                retention.purge(running::get);
                retentionDone = true;
                phase.compareAndSet(Phase.RETENTION, Phase.QUIET);
                continue;
            }
            try {
                requests.next(random, current);
            } catch (RuntimeException failed) {
                failures.record(failed);
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

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread thread : threads) {
            thread.join(30_000);
        }
        wire.close();
    }
}
