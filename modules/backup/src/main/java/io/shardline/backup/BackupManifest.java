package io.shardline.backup;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * What a backup holds, written last as {@code manifest.json} next to its dump: a backup without one is incomplete.
 * Each namespace's dump is consistent at its own CDC position ({@code consistentOffset}: every change before it is
 * in the dump, none after); the backup as a whole restores to any time from {@link #consistentAt()} on.
 *
 * @param format       the manifest's format version
 * @param backupId     sortable by the time it was started
 * @param shardId      the shard it is a backup of
 * @param startedAt    when the copy started, epoch milliseconds
 * @param consistentAt the earliest time it restores to: the latest of its namespaces' consistent times
 * @param finishedAt   when the manifest was written
 * @param gzip         whether the {@code .bson} files are gzip-compressed ({@code .bson.gz})
 * @param namespaces   one dump per namespace
 * @param sha256       every file of the backup (path relative to the backup's folder) and its SHA-256, in hex
 */
public record BackupManifest(int format, String backupId, String shardId, long startedAt, long consistentAt, long finishedAt, boolean gzip,
                             List<NamespaceDump> namespaces, Map<String, String> sha256) {

    public static final String FILE = "manifest.json";
    static final int FORMAT = 1;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
        .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * One namespace's dump.
     *
     * @param namespace        {@code db.collection}
     * @param dataFile         the documents, concatenated BSON as mongodump writes them
     * @param metadataFile     the collection's indexes, as mongodump writes them
     * @param documents        documents in the dump
     * @param bytes            their BSON size, uncompressed
     * @param cdcTopic         the shard's CDC topic of the namespace
     * @param startOffset      the topic's end offset before the copy started
     * @param consistentOffset the dump holds every change before this offset and none from it on
     * @param consistentAt     when the shard applied the last change the dump holds (the backup's marker)
     * @param resumeToken      the change stream's resume token right after that marker, as extended JSON
     * @param rangesAt         when {@code ranges} were read from the routing
     * @param ranges           the key ranges the shard owned then ({@code max} null: unbounded)
     */
    public record NamespaceDump(String namespace, String dataFile, String metadataFile, long documents, long bytes, String cdcTopic,
                                long startOffset, long consistentOffset, long consistentAt, String resumeToken, long rangesAt,
                                List<Range> ranges) {
    }

    /** A half-open range of encoded shard keys, in hex; {@code max} null is unbounded. */
    public record Range(String min, String max) {
    }

    /** The dump of a namespace, or {@code null}. */
    public NamespaceDump dump(String namespace) {
        return namespaces.stream().filter(dump -> dump.namespace().equals(namespace)).findFirst().orElse(null);
    }

    /** Writes the manifest into {@code folder}, atomically: a reader sees the whole file or none. */
    public void writeTo(Path folder) throws IOException {
        Path partial = folder.resolve(FILE + ".partial");
        Files.write(partial, JSON.writeValueAsBytes(this));
        try {
            Files.move(partial, folder.resolve(FILE), StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(partial, folder.resolve(FILE), StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Reads the manifest of the backup in {@code folder}; a missing, truncated or incomplete one is an error naming it. */
    public static BackupManifest readFrom(Path folder) {
        Path file = folder.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new BackupException(file + ": missing; the backup is incomplete");
        }
        BackupManifest manifest;
        try {
            manifest = JSON.readValue(file.toFile(), BackupManifest.class);
        } catch (JsonProcessingException e) {
            throw new BackupException(file + ": unreadable (truncated or damaged): " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new BackupException(file + ": cannot be read: " + e.getMessage(), e);
        }
        manifest.check(file);
        return manifest;
    }

    private void check(Path file) {
        if (format != FORMAT) {
            throw new BackupException(file + ": format " + format + " is not " + FORMAT);
        }
        require(file, backupId, "backupId");
        require(file, shardId, "shardId");
        require(file, namespaces, "namespaces");
        require(file, sha256, "sha256");
        for (NamespaceDump dump : namespaces) {
            require(file, dump.namespace(), "namespaces[].namespace");
            require(file, dump.ranges(), "namespaces[" + dump.namespace() + "].ranges");
            for (String path : List.of(dump.dataFile(), dump.metadataFile())) {
                if (path == null || !sha256.containsKey(path)) {
                    throw new BackupException(file + ": namespaces[" + dump.namespace() + "]: file " + path + " has no sha256 entry");
                }
            }
        }
    }

    private static void require(Path file, Object value, String field) {
        if (value == null) {
            throw new BackupException(file + ": " + field + ": missing (truncated or damaged manifest)");
        }
    }
}
