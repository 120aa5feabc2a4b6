package io.shardline.backup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The backups in a folder ({@code <root>/<shard>/<backupId>/}): complete ones (a readable manifest), incomplete ones
 * (no manifest: a backup failed or still running) and damaged ones (a manifest that cannot be read).
 */
public final class BackupCatalog {

    /** One backup folder: its manifest, or why there is none. */
    public record Entry(String shardId, String backupId, Path folder, BackupManifest manifest, String problem) {

        public boolean complete() {
            return manifest != null;
        }
    }

    private final Path root;

    public BackupCatalog(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** The backups of one shard ({@code null}: of every shard), oldest first. */
    public List<Entry> list(String shardId) {
        List<Entry> entries = new ArrayList<>();
        for (Path shardFolder : children(root)) {
            String shard = shardFolder.getFileName().toString();
            if (shardId != null && !shardId.equals(shard)) {
                continue;
            }
            for (Path folder : children(shardFolder)) {
                entries.add(entry(shard, folder));
            }
        }
        entries.sort(Comparator.comparing(Entry::shardId).thenComparing(Entry::backupId));
        return entries;
    }

    private static Entry entry(String shard, Path folder) {
        String id = folder.getFileName().toString();
        if (!Files.exists(folder.resolve(BackupManifest.FILE))) {
            return new Entry(shard, id, folder, null, "incomplete: no " + BackupManifest.FILE);
        }
        try {
            return new Entry(shard, id, folder, BackupManifest.readFrom(folder), null);
        } catch (BackupException damaged) {
            return new Entry(shard, id, folder, null, damaged.getMessage());
        }
    }

    /**
     * Checks every file of a backup against its manifest's SHA-256 before anything is restored from it: a file
     * missing, changed or extra-short is an error naming it.
     */
    public static void verify(Path folder, BackupManifest manifest) {
        for (Map.Entry<String, String> file : manifest.sha256().entrySet()) {
            Path path = folder.resolve(file.getKey());
            if (!Files.isRegularFile(path)) {
                throw new BackupException(path + ": missing; the backup is incomplete");
            }
            String actual;
            try {
                actual = DumpFiles.sum(path);
            } catch (IOException e) {
                throw new BackupException(path + ": cannot be read: " + e.getMessage(), e);
            }
            if (!actual.equals(file.getValue())) {
                throw new BackupException(path + ": SHA-256 " + actual + " is not the manifest's " + file.getValue() + "; the file is damaged");
            }
        }
    }

    /** Deletes the oldest complete backups of a shard beyond the newest {@code keep}; returns the ids deleted. */
    public List<String> prune(String shardId, int keep) {
        List<Entry> complete = list(shardId).stream().filter(Entry::complete).toList();
        List<String> deleted = new ArrayList<>();
        for (Entry entry : complete.subList(0, Math.max(0, complete.size() - keep))) {
            deleteTree(entry.folder());
            deleted.add(entry.backupId());
        }
        return deleted;
    }

    private static void deleteTree(Path folder) {
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + folder, e);
        }
    }

    private static List<Path> children(Path folder) {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(folder)) {
            return list.filter(Files::isDirectory).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + folder, e);
        }
    }
}
