package io.shardline.backup;

import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.schemas.TopicCatalog;

/**
 * Where a restore starts: a backup (its dump, each namespace's CDC offset after it, the ranges its manifest says the
 * shard owned) or the stream itself (nothing, offset 0 of topics that still hold their first record, the ranges the
 * shard owns now).
 *
 * @param name         {@code backup <id>} or {@code stream}
 * @param manifest     the backup's manifest; {@code null} for the stream
 * @param folder       the backup's folder; {@code null} for the stream
 * @param namespaces   the namespaces restored
 * @param startOffsets per namespace, the first CDC offset to replay
 * @param knownRanges  per namespace, the ranges the shard owned at {@code knownAt}
 * @param knownAt      when it owned them
 */
record RestoreBase(String name, BackupManifest manifest, Path folder, List<String> namespaces, Map<String, Long> startOffsets,
                   Map<String, List<KeyRange>> knownRanges, long knownAt) {

    static final String BACKUP = "backup ";
    static final String STREAM = "stream";

    /**
     * @param resumed the base of an unfinished run of the same restore on its target ({@code null}: none): a rerun
     *                resumes from it, whatever backups were taken or pruned since
     */
    static RestoreBase choose(String bootstrapServers, BackupCatalog catalog, ShardRestore.Request request, ShardRestore.ClusterView view,
                              String resumed) {
        List<BackupCatalog.Entry> entries = catalog.list(request.shardId());
        BackupCatalog.Entry chosen = null;
        String backupId = request.backupId();
        if (backupId == null && resumed != null) {
            if (resumed.equals(STREAM)) {
                return ofStream(bootstrapServers, request, view, entries);
            }
            backupId = resumed.substring(BACKUP.length());
        }
        if (backupId != null) {
            String named = backupId;
            chosen = entries.stream().filter(e -> e.backupId().equals(named)).findFirst()
                .orElseThrow(() -> new BackupException(catalog.root().resolve(request.shardId()).resolve(named) + ": no such backup"
                    + (request.backupId() == null ? " (the unfinished restore on the target started from it)" : "")));
            if (!chosen.complete()) {
                throw new BackupException(chosen.problem());
            }
            if (chosen.manifest().consistentAt() > request.at()) {
                throw new BackupException("backup " + chosen.backupId() + " restores to times from " + Instant.ofEpochMilli(chosen.manifest().consistentAt())
                    + " on, not to " + Instant.ofEpochMilli(request.at()));
            }
        } else {
            for (BackupCatalog.Entry entry : entries) {
                if (entry.problem() != null && !entry.problem().startsWith("incomplete")) {
                    throw new BackupException(entry.problem() + "; name the backup to restore from with --backup, or remove the damaged one");
                }
                if (entry.complete() && entry.manifest().consistentAt() <= request.at()) {
                    chosen = entry;
                }
            }
        }
        if (chosen != null) {
            return ofBackup(chosen, request);
        }
        return ofStream(bootstrapServers, request, view, entries);
    }

    private static RestoreBase ofBackup(BackupCatalog.Entry entry, ShardRestore.Request request) {
        BackupManifest manifest = entry.manifest();
        List<String> namespaces = request.namespaces() == null ? manifest.namespaces().stream().map(BackupManifest.NamespaceDump::namespace).toList()
            : request.namespaces();
        Map<String, Long> offsets = new LinkedHashMap<>();
        Map<String, List<KeyRange>> ranges = new HashMap<>();
        long knownAt = 0;
        for (String namespace : namespaces) {
            BackupManifest.NamespaceDump dump = manifest.dump(namespace);
            if (dump == null) {
                throw new BackupException("backup " + manifest.backupId() + " of " + manifest.shardId() + " holds no " + namespace);
            }
            offsets.put(namespace, dump.consistentOffset());
            ranges.put(namespace, dump.ranges().stream().map(RestoreBase::range).toList());
            knownAt = Math.max(knownAt, dump.rangesAt());
        }
        return new RestoreBase(BACKUP + manifest.backupId(), manifest, entry.folder(), namespaces, offsets, ranges, knownAt);
    }

    private static RestoreBase ofStream(String bootstrapServers, ShardRestore.Request request, ShardRestore.ClusterView view,
                                        List<BackupCatalog.Entry> entries) {
        List<String> namespaces = request.namespaces() == null ? view.namespaces() : request.namespaces();
        Map<String, Long> offsets = new LinkedHashMap<>();
        for (String namespace : namespaces) {
            try (CdcReader cdc = new CdcReader(bootstrapServers, TopicCatalog.cdcTopic(request.shardId(), namespace))) {
                if (cdc.earliestOffset() > 0) {
                    String oldest = entries.stream().filter(BackupCatalog.Entry::complete).findFirst()
                        .map(e -> "; the oldest backup restores to times from " + Instant.ofEpochMilli(e.manifest().consistentAt()) + " on").orElse("; there is no backup");
                    throw new BackupException("no backup of " + request.shardId() + " is consistent by " + Instant.ofEpochMilli(request.at())
                        + ", and " + cdc.topic() + " no longer holds its first record (retention deleted offsets before " + cdc.earliestOffset() + ")" + oldest);
                }
            }
            offsets.put(namespace, 0L);
        }
        return new RestoreBase(STREAM, null, null, namespaces, offsets, view.rangesNow(), view.now());
    }

    static KeyRange range(BackupManifest.Range range) {
        return new KeyRange(ShardKey.ofHex(range.min()), range.max() == null ? null : ShardKey.ofHex(range.max()));
    }
}
