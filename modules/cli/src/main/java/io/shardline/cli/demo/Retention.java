package io.shardline.cli.demo;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.controlplane.AuthServiceLayout;

/**
 * The retention purge: every session and audit entry written so far (expired sessions, audit entries past their
 * retention) deleted tenant by tenant, in batches of ids. A batch that fails counts as a failed request.
 */
final class Retention {

    private static final Logger LOG = LoggerFactory.getLogger(Retention.class);
    private static final int BATCH = 100;

    private final WrittenIds ids;
    private final LedgerWrites writes;
    private final Failures failures;
    private final AtomicLong purged = new AtomicLong();
    private final java.util.Set<String> purgedIds = java.util.concurrent.ConcurrentHashMap.newKeySet();

    Retention(WrittenIds ids, LedgerWrites writes, Failures failures) {
        this.ids = ids;
        this.writes = writes;
        this.failures = failures;
    }

    /** Purges, stopping between batches once {@code running} turns false. */
    void purge(BooleanSupplier running) {
        for (String tenant : TenantMix.TENANTS) {
            purge(tenant, AuthServiceLayout.AUDIT_ENTRIES, ids.drainAuditEntries(tenant), running);
            purge(tenant, AuthServiceLayout.SESSIONS, ids.drainSessions(tenant), running);
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

    private void purge(String tenant, String namespace, List<String> all, BooleanSupplier running) {
        for (int from = 0; from < all.size() && running.getAsBoolean(); from += BATCH) {
            List<String> batch = all.subList(from, Math.min(all.size(), from + BATCH));
            try {
                writes.delete(tenant, namespace, batch);
                purged.addAndGet(batch.size());
                purgedIds.addAll(batch);
            } catch (RuntimeException failed) {
                failures.record(failed);
                LOG.debug("purge of {} {} failed: {}", tenant, namespace, failed.getMessage());
            }
        }
    }
}
