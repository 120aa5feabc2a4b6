package io.shardline.backup;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.bson.json.JsonMode;
import org.bson.json.JsonWriterSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.mongodb.ReadPreference;
import com.mongodb.client.MongoChangeStreamCursor;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.changestream.ChangeStreamDocument;

import io.shardline.schemas.TopicCatalog;

/**
 * Takes one backup of one shard, namespace by namespace, the way a migration copies a range: the CDC topic's end
 * offset is taken before the copy (the watermark), the collection is scanned into a file, a marker document is
 * written and the topic read from the watermark until the marker's change arrives, and the changes read are laid
 * over the scan. The dump then holds exactly the changes before the marker: it is consistent at the marker's CDC
 * position, which the manifest records. Files are written in mongodump's layout, so mongorestore reads them too.
 */
public final class ShardBackup {

    private static final Logger LOG = LoggerFactory.getLogger(ShardBackup.class);
    private static final JsonWriterSettings EXTENDED_JSON = JsonWriterSettings.builder().outputMode(JsonMode.EXTENDED).build();
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /**
     * @param root         the backups' folder: a backup goes to {@code <root>/<shard>/<backupId>/}
     * @param gzip         compress the {@code .bson} files
     * @param drainTimeout how long the marker's change may take to come back through the CDC topic
     */
    public record Settings(Path root, boolean gzip, Duration drainTimeout) {
    }

    /** What to back up: a shard, its namespaces and the key ranges it owns in each, as read from the routing. */
    public record Target(String shardId, String connectionString, Map<String, List<BackupManifest.Range>> rangesByNamespace, long rangesAt) {
    }

    private final String bootstrapServers;
    private final Settings settings;

    public ShardBackup(String bootstrapServers, Settings settings) {
        this.bootstrapServers = bootstrapServers;
        this.settings = settings;
    }

    /** A new backup id: the start time (UTC, to the second) and a random suffix, so ids sort by time. */
    public static String newBackupId(Instant at) {
        return ID_TIME.format(at) + "-" + UUID.randomUUID().toString().substring(0, 6);
    }

    /** Takes the backup; a backup that fails leaves no manifest, so it is never listed or restored from. */
    public BackupManifest take(Target target) {
        Instant started = Instant.now();
        String backupId = newBackupId(started);
        Path folder = settings.root().resolve(target.shardId()).resolve(backupId);
        Map<String, String> sums = new LinkedHashMap<>();
        List<BackupManifest.NamespaceDump> dumps = new ArrayList<>();
        try (MongoClient client = MongoClients.create(target.connectionString())) {
            Files.createDirectories(folder);
            for (Map.Entry<String, List<BackupManifest.Range>> entry : target.rangesByNamespace().entrySet()) {
                dumps.add(dumpNamespace(client, target, backupId, folder, entry.getKey(), entry.getValue(), sums));
            }
            long consistentAt = dumps.stream().mapToLong(BackupManifest.NamespaceDump::consistentAt).max().orElse(started.toEpochMilli());
            BackupManifest manifest = new BackupManifest(BackupManifest.FORMAT, backupId, target.shardId(), started.toEpochMilli(), consistentAt,
                System.currentTimeMillis(), settings.gzip(), dumps, sums);
            manifest.writeTo(folder);
            return manifest;
        } catch (IOException e) {
            discard(folder);
            throw new BackupException(folder + ": cannot be written: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            discard(folder);
            throw e;
        }
    }

    /** Deletes what a failed backup wrote; a backup without a manifest is never restored from, this only frees the space. */
    private static void discard(Path folder) {
        if (!Files.exists(folder)) {
            return;
        }
        try (java.util.stream.Stream<Path> walk = Files.walk(folder)) {
            for (Path path : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException | java.io.UncheckedIOException e) {
            LOG.warn("the files of a failed backup in {} could not all be deleted: {}", folder, e.getMessage());
        }
    }

    private BackupManifest.NamespaceDump dumpNamespace(MongoClient client, Target target, String backupId, Path folder, String namespace,
                                                       List<BackupManifest.Range> ranges, Map<String, String> sums) throws IOException {
        int dot = namespace.indexOf('.');
        String database = namespace.substring(0, dot);
        String collectionName = namespace.substring(dot + 1);
        MongoCollection<RawBsonDocument> collection = client.getDatabase(database).getCollection(collectionName, RawBsonDocument.class)
            .withReadPreference(ReadPreference.primary());
        String topic = TopicCatalog.cdcTopic(target.shardId(), namespace);
        Files.createDirectories(folder.resolve(database));
        String dataFile = database + "/" + collectionName + (settings.gzip() ? ".bson.gz" : ".bson");
        String metadataFile = database + "/" + collectionName + ".metadata.json";
        Path scan = folder.resolve(database).resolve(collectionName + ".scan");
        try (CdcReader cdc = new CdcReader(bootstrapServers, topic)) {
            long startOffset = cdc.endOffset();
            long scanned = scanInto(collection, scan);
            Drained drained = drainToMarker(collection, cdc, startOffset, backupId);
            DumpFiles.Written written = DumpFiles.overlay(scan, folder.resolve(dataFile), settings.gzip(), drained.changes());
            Files.delete(scan);
            sums.put(dataFile, written.sha256());
            sums.put(metadataFile, DumpFiles.writeWithSum(folder.resolve(metadataFile), metadata(collection, collectionName)));
            LOG.info("backup {} of {}: {} documents of {} scanned, {} changes laid over, consistent at {} offset {}", backupId, target.shardId(),
                written.documents(), scanned, drained.changes().size(), topic, drained.consistentOffset());
            return new BackupManifest.NamespaceDump(namespace, dataFile, metadataFile, written.documents(), written.bytes(), topic, startOffset,
                drained.consistentOffset(), drained.consistentAt(), drained.resumeToken(), target.rangesAt(), ranges);
        }
    }

    private static long scanInto(MongoCollection<RawBsonDocument> collection, Path scan) throws IOException {
        long count = 0;
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(scan), 1 << 16);
             MongoCursor<RawBsonDocument> cursor = collection.find().batchSize(1_000).iterator()) {
            while (cursor.hasNext()) {
                RawBsonDocument document = cursor.next();
                if (!document.containsKey(ChangeRecord.MARKER_FIELD)) {
                    DumpFiles.write(out, document);
                    count++;
                }
            }
        }
        return count;
    }

    /** The changes from the watermark to the marker, last one per document ({@code null}: deleted), and the marker's position. */
    private record Drained(Map<String, RawBsonDocument> changes, long consistentOffset, long consistentAt, String resumeToken) {
    }

    private Drained drainToMarker(MongoCollection<RawBsonDocument> collection, CdcReader cdc, long startOffset, String backupId) {
        BsonString markerId = new BsonString("shardline:backup:" + backupId);
        String resumeToken;
        try (MongoChangeStreamCursor<ChangeStreamDocument<RawBsonDocument>> stream = collection.watch()
            .maxAwaitTime(50, TimeUnit.MILLISECONDS).cursor()) {
            collection.insertOne(RawBsonDocument.parse(new BsonDocument("_id", markerId)
                .append(ChangeRecord.MARKER_FIELD, new BsonString(backupId)).toJson()));
            resumeToken = markerToken(stream, markerId);
        }
        try {
            cdc.seek(startOffset);
            Map<String, RawBsonDocument> changes = new HashMap<>();
            long deadline = System.nanoTime() + settings.drainTimeout().toNanos();
            while (System.nanoTime() < deadline) {
                for (ChangeRecord change : cdc.poll(Duration.ofMillis(200))) {
                    if (markerId.equals(change.id()) && change.after() != null) {
                        return new Drained(changes, change.offset() + 1, change.wallTime(), resumeToken);
                    }
                    if (!change.marker() && !change.imageMissing()) {
                        changes.put(IdKey.of(change.id()), change.after());
                    }
                }
            }
            throw new BackupException(cdc.topic() + ": the backup's marker did not come back within " + settings.drainTimeout()
                + "; is the shard's connector running?");
        } finally {
            collection.deleteOne(Filters.eq("_id", markerId));
        }
    }

    private static String markerToken(MongoChangeStreamCursor<ChangeStreamDocument<RawBsonDocument>> stream, BsonString markerId) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            ChangeStreamDocument<RawBsonDocument> change = stream.tryNext();
            if (change != null && change.getDocumentKey() != null && markerId.equals(change.getDocumentKey().get("_id"))) {
                return change.getResumeToken().toJson(EXTENDED_JSON);
            }
        }
        throw new BackupException("the shard's change stream did not show the backup's marker " + markerId.getValue() + " within 30 s");
    }

    private static byte[] metadata(MongoCollection<RawBsonDocument> collection, String collectionName) {
        BsonArray indexes = new BsonArray();
        for (BsonDocument index : collection.listIndexes(BsonDocument.class)) {
            indexes.add(index);
        }
        BsonDocument metadata = new BsonDocument("options", new BsonDocument()).append("indexes", indexes)
            .append("collectionName", new BsonString(collectionName)).append("type", new BsonString("collection"));
        return metadata.toJson(EXTENDED_JSON).getBytes(StandardCharsets.UTF_8);
    }
}
