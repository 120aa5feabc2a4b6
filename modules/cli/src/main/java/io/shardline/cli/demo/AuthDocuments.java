package io.shardline.cli.demo;

import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import org.bson.Document;

/**
 * The auth service's documents as the workload writes them: users, sessions and audit entries, each with an id unique
 * to the run (tenant, kind and a sequence number) and a random version {@code v} for the write ledger.
 */
final class AuthDocuments {

    private static final String PAD = "x".repeat(160);

    private final AtomicLong sequence = new AtomicLong();

    Document user(String tenant, SplittableRandom random) {
        String id = tenant + "-u" + sequence.incrementAndGet();
        return new Document("_id", id).append("tenantId", tenant).append("email", id + "@" + tenant + ".example")
            .append("name", "User " + id).append("roles", List.of("member")).append("createdAt", System.currentTimeMillis())
            .append("v", random.nextInt(1_000_000));
    }

    Document session(String tenant, String user, SplittableRandom random) {
        String id = tenant + "-s" + sequence.incrementAndGet();
        long now = System.currentTimeMillis();
        return new Document("_id", id).append("tenantId", tenant).append("userId", user)
            .append("tokenHash", Long.toHexString(random.nextLong()) + Long.toHexString(random.nextLong()))
            .append("createdAt", now).append("lastSeenAt", now).append("expiresAt", now + 3_600_000L).append("v", random.nextInt(1_000_000));
    }

    Document auditEntry(String tenant, String user, String action, SplittableRandom random) {
        String id = tenant + "-a" + sequence.incrementAndGet();
        return new Document("_id", id).append("tenantId", tenant).append("at", System.currentTimeMillis()).append("userId", user)
            .append("action", action).append("ip", "10." + random.nextInt(256) + "." + random.nextInt(256) + "." + random.nextInt(256))
            .append("detail", PAD).append("v", random.nextInt(1_000_000));
    }
}
