package io.shardline.cli.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.bson.Document;

import io.shardline.controlplane.AuthServiceLayout;

/**
 * The auth service's existing data, loaded through the router before the clients start: batches of users, sessions and
 * audit entries of Zipf-sized tenants, each batch one insert of one collection.
 */
final class AuthSeed {

    private static final int BATCH = 200;

    private final TenantMix tenants;
    private final AuthDocuments documents;
    private final WrittenIds ids;
    private final LedgerWrites writes;

    AuthSeed(TenantMix tenants, AuthDocuments documents, WrittenIds ids, LedgerWrites writes) {
        this.tenants = tenants;
        this.documents = documents;
        this.ids = ids;
        this.writes = writes;
    }

    /** Writes batches until about {@code targetBytes} of documents are written; the documents written. */
    long load(long targetBytes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long bytes = 0;
        long written = 0;
        while (bytes < targetBytes) {
            String tenant = tenants.next(random);
            List<Document> batch = new ArrayList<>();
            int kind = random.nextInt(10);
            for (int i = 0; i < BATCH; i++) {
                if (kind < 2 || ids.noUsers(tenant)) {
                    batch.add(documents.user(tenant, random));
                } else if (kind < 6) {
                    batch.add(documents.session(tenant, ids.user(tenant, random), random));
                } else {
                    batch.add(documents.auditEntry(tenant, ids.user(tenant, random), "login", random));
                }
            }
            String namespace = kind < 2 || ids.noUsers(tenant) ? AuthServiceLayout.USERS
                : kind < 6 ? AuthServiceLayout.SESSIONS : AuthServiceLayout.AUDIT_ENTRIES;
            writes.insert(tenant, namespace, batch);
            for (Document document : batch) {
                ids.remember(tenant, namespace, document);
                bytes += document.toJson().length();
            }
            written += batch.size();
        }
        return written;
    }
}
