package io.shardline.cli.demo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.controlplane.AuthServiceLayout;

/**
 * The retention purge: every session and audit entry written so far (expired sessions, audit entries past their
 * retention) deleted tenant by tenant, in batches of ids. A batch that fails counts as a failed request and is tried
 * again once the pass is over, after a pause, as long as the workload runs: a shard down for a few seconds (the
 * failover) delays the purge of its documents rather than leaving them for good.
 */
final class Retention {

    private static final Logger LOG = LoggerFactory.getLogger(Retention.class);
    private static final int BATCH = 100;
    /** How long the purge waits before it tries its failed batches again. */
    private static final Duration RETRY_PAUSE = Duration.ofSeconds(1);

    private final WrittenIds ids;
    private final LedgerWrites writes;
    private final Failures failures;
    private final AtomicLong purged = new AtomicLong();
    private final AtomicLong retried = new AtomicLong();
    private final java.util.Set<String> purgedIds = java.util.concurrent.ConcurrentHashMap.newKeySet();

    Retention(WrittenIds ids, LedgerWrites writes, Failures failures) {
        this.ids = ids;
        this.writes = writes;
        this.failures = failures;
    }

    /** Purges, stopping between batches once {@code running} turns false; failed batches are retried until they succeed. */
    void purge(BooleanSupplier running) {
        List<Batch> failed = new ArrayList<>();
        for (String tenant : TenantMix.TENANTS) {
            failed.addAll(purge(tenant, AuthServiceLayout.AUDIT_ENTRIES, ids.drainAuditEntries(tenant), running));
            failed.addAll(purge(tenant, AuthServiceLayout.SESSIONS, ids.drainSessions(tenant), running));
        }
        while (!failed.isEmpty() && running.getAsBoolean() && pause()) {
            List<Batch> again = new ArrayList<>();
            for (Batch batch : failed) {
                retried.incrementAndGet();
                again.addAll(purge(batch.tenant(), batch.namespace(), batch.ids(), running));
            }
            failed = again;
        }
    }

    /** Whether the purge deleted the document of that id (an acknowledged delete). */
    boolean purged(String id) {
        return purgedIds.contains(id);
    }

    /** The documents deleted so far. */
    long purged() {
        return purged.get();
    }

    /** The tries of batches that had failed (a batch that fails again is tried again, and counted again). */
    long retried() {
        return retried.get();
    }

    /** One batch of ids to delete. */
    private record Batch(String tenant, String namespace, List<String> ids) {
    }

    /** Deletes {@code all} in batches, stopping once {@code running} turns false; returns the batches that failed. */
    private List<Batch> purge(String tenant, String namespace, List<String> all, BooleanSupplier running) {
        List<Batch> failed = new ArrayList<>();
        for (int from = 0; from < all.size() && running.getAsBoolean(); from += BATCH) {
            List<String> batch = all.subList(from, Math.min(all.size(), from + BATCH));
            try {
                writes.delete(tenant, namespace, batch);
                purged.addAndGet(batch.size());
                purgedIds.addAll(batch);
            } catch (RuntimeException e) {
                failures.record(e);
                failed.add(new Batch(tenant, namespace, batch));
                LOG.debug("purge of {} {} failed: {}", tenant, namespace, e.getMessage());
            }
        }
        return failed;
    }

    private boolean pause() {
        try {
            Thread.sleep(RETRY_PAUSE.toMillis());
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
