package io.shardline.cli.demo;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.backup.BackupManifest;
import io.shardline.backup.ClusterBackups;
import io.shardline.backup.ShardBackup;
import io.shardline.backup.ShardRestore;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.core.key.ShardKey;
import io.shardline.core.txn.IntentLayout;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;
import io.shardline.shard.EmbeddedShard;
import io.shardline.worker.check.WriteLedger;
import io.shardline.worker.check.WriteTimeline;

/**
 * The demo's backups and point-in-time restore: a backup of every shard while the workload runs; at the end, every
 * shard restored to a moment in the middle (after the backups, before the end) into scratch shards, and what they
 * hold together checked against the write ledger's state at that moment: nothing missing, no wrong value, nothing
 * twice, nothing unknown.
 */
public final class PointInTimeDemo implements AutoCloseable {

    private final ControlPlaneClient plane;
    private final ClusterBackups backups;
    private CompletableFuture<List<BackupManifest>> taken;

    public PointInTimeDemo(ControlPlaneClient plane, Path dir) {
        this.plane = plane;
        this.backups = new ClusterBackups(plane, new ShardBackup.Settings(dir, true, Duration.ofSeconds(60)), "demo", new SimpleMeterRegistry());
    }

    /** Starts a backup of every shard not RETIRED (a DRAINING one still holds data), one after the other, beside the workload. */
    public void backUp() {
        if (taken == null) {
            taken = CompletableFuture.supplyAsync(() -> {
                List<BackupManifest> manifests = new ArrayList<>();
                for (ShardDescriptor shard : plane.shards().values()) {
                    if (shard.getState() != ShardState.RETIRED) {
                        manifests.add(backups.backup(shard.getShardId(), null));
                    }
                }
                return manifests;
            });
        }
    }

    public boolean started() {
        return taken != null;
    }

    /** What the restore found, as report lines, and whether it was exact. */
    public record Outcome(List<String> lines, boolean clean) {
    }

    /**
     * Restores every shard to the middle of the span from the backups to {@code endedAt} and checks the result.
     *
     * @param namespaces the namespaces the ledger wrote
     */
    public Outcome restoreAndCheck(long endedAt, WriteLedger ledger, List<String> namespaces) {
        List<String> lines = new ArrayList<>();
        if (taken == null) {
            return new Outcome(List.of("point-in-time restore: skipped, the run ended before the backups were due"), true);
        }
        List<BackupManifest> manifests;
        try {
            manifests = taken.join();
        } catch (RuntimeException failed) {
            return new Outcome(List.of("point-in-time restore: the backups failed: " + failed.getMessage()), false);
        }
        long consistent = manifests.stream().mapToLong(BackupManifest::consistentAt).max().orElse(endedAt);
        long moment = consistent + (endedAt - consistent) / 2;
        long documents = manifests.stream().flatMap(m -> m.namespaces().stream()).mapToLong(BackupManifest.NamespaceDump::documents).sum();
        lines.add(String.format("backups: %d shards, %,d documents, consistent by %s", manifests.size(), documents, Instant.ofEpochMilli(consistent)));
        Map<WriteLedger.Key, List<Integer>> restored = new HashMap<>();
        Map<WriteLedger.Key, java.util.Set<Integer>> undecided = new HashMap<>();
        long changes = 0;
        for (ShardDescriptor shard : plane.shards().values()) {
            try (EmbeddedShard scratch = EmbeddedShard.start("restore-" + shard.getShardId())) {
                ShardRestore.Result result = backups.restore(new ShardRestore.Request(shard.getShardId(), moment, null, namespaces,
                    scratch.connectionString(), false));
                changes += result.namespaces().stream().mapToLong(ShardRestore.NamespaceResult::changesApplied).sum();
                collect(scratch.connectionString(), namespaces, restored, undecided);
            } catch (RuntimeException failed) {
                lines.add("point-in-time restore of " + shard.getShardId() + " failed: " + failed.getMessage());
                return new Outcome(lines, false);
            }
        }
        WriteTimeline.Verdict verdict = ledger.timeline().checkAt(moment, restored, undecided);
        lines.add(String.format("point-in-time restore: every shard restored to %s (backup + %,d changes) into scratch shards; %,d documents checked "
            + "against the ledger at that moment: missing %d, wrong value %d, duplicated %d, unknown %d", Instant.ofEpochMilli(moment), changes,
            verdict.checked(), verdict.missing(), verdict.wrong(), verdict.duplicated(), verdict.unknown()));
        verdict.examples().forEach(example -> lines.add("  " + example));
        return new Outcome(lines, verdict.clean());
    }

    /**
     * Reads every restored document's {@code v}; one still under a transaction's intent (the restore left it held, as its
     * transaction was not yet decided and resolved when the restore ran) also gives the value the intent would leave,
     * since its outcome is on the coordinator log and not in the document.
     */
    private static void collect(String connectionString, List<String> namespaces, Map<WriteLedger.Key, List<Integer>> restored,
                                Map<WriteLedger.Key, java.util.Set<Integer>> undecided) {
        try (MongoClient client = MongoClients.create(connectionString)) {
            for (String namespace : namespaces) {
                int dot = namespace.indexOf('.');
                for (Document doc : client.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1))
                    .find(Filters.exists(ShardKey.DOCUMENT_FIELD)).projection(Projections.include("_id", "v", IntentLayout.FIELD))) {
                    WriteLedger.Key key = new WriteLedger.Key(namespace, String.valueOf(doc.get("_id")));
                    int stored = doc.getInteger("v", Integer.MIN_VALUE);
                    restored.computeIfAbsent(key, k -> new ArrayList<>()).add(stored);
                    if (doc.get(IntentLayout.FIELD) instanceof Document intent) {
                        int outcome = switch (String.valueOf(intent.get(IntentLayout.OP))) {
                            case "INSERT", "DELETE" -> WriteLedger.DELETED; // an insert aborted, a delete committed
                            case "UPDATE" -> intent.get(IntentLayout.NEW) instanceof Document next ? next.getInteger("v", Integer.MIN_VALUE) : stored;
                            default -> stored;
                        };
                        undecided.put(key, new java.util.HashSet<>(List.of(stored, outcome)));
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        if (taken != null) {
            taken.cancel(true);
        }
    }
}
