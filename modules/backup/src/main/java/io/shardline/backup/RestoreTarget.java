package io.shardline.backup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bson.BsonArray;
import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;

import com.mongodb.client.MongoDatabase;

import io.shardline.core.key.KeyRange;
import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.avro.MigrationState;

/** What a restore checks and sets up on the shard it writes to. */
final class RestoreTarget {

    private RestoreTarget() {
    }

    /**
     * An in-place restore rewrites only what the shard owns: it is refused when a migration involving the shard has not
     * ended, or when the ranges the shard owned at the moment differ from those it owns now (a range moved in since
     * would be deleted, one moved out would come back as a stray copy): restore into a fresh shard then.
     */
    static void checkInPlace(String shardId, List<String> namespaces, Map<String, List<KeyRange>> ownedThen, ShardRestore.ClusterView view) {
        for (MigrationState migration : view.migrations()) {
            if (!MigrationPhases.ended(migration) && (shardId.equals(migration.getSourceShardId()) || shardId.equals(migration.getTargetShardId()))) {
                throw new BackupException("--in-place: migration " + migration.getMigrationId() + " of " + shardId + " has not ended; wait for it or abort it");
            }
        }
        for (String namespace : namespaces) {
            List<KeyRange> now = new ArrayList<>();
            view.rangesNow().getOrDefault(namespace, List.of()).forEach(range -> Ownership.add(now, range));
            List<KeyRange> then = ownedThen.getOrDefault(namespace, List.of());
            if (!now.equals(then)) {
                throw new BackupException("--in-place: " + shardId + " owned " + then + " of " + namespace + " then and owns " + now
                    + " now; restore --into a fresh shard instead");
            }
        }
    }

    /** Creates on {@code collection} the indexes the dump's metadata file lists, but {@code _id}'s. */
    static void createIndexes(Path metadataFile, MongoDatabase database, String collection) {
        BsonDocument metadata;
        try {
            metadata = BsonDocument.parse(Files.readString(metadataFile, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            throw new BackupException(metadataFile + ": unreadable: " + e.getMessage(), e);
        }
        BsonArray indexes = new BsonArray();
        for (BsonValue index : metadata.getArray("indexes", new BsonArray())) {
            BsonDocument spec = index.asDocument().clone();
            if ("_id_".equals(spec.getString("name", new BsonString("")).getValue())) {
                continue;
            }
            spec.remove("v");
            spec.remove("ns");
            indexes.add(spec);
        }
        if (!indexes.isEmpty()) {
            database.runCommand(new BsonDocument("createIndexes", new BsonString(collection)).append("indexes", indexes));
        }
    }
}
