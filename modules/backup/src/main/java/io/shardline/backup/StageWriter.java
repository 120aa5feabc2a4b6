package io.shardline.backup;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.DeleteOneModel;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.InsertManyOptions;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.ReplaceOneModel;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.WriteModel;

import io.shardline.core.key.KeyRange;

/**
 * Writes a restore's state into a collection in batches: the base's documents (inserted into an empty collection,
 * upserted when resuming), then the changes (the last one per {@code _id} of a batch wins, since all of a batch
 * are applied at once), then the removal of documents outside the owned ranges.
 */
final class StageWriter {

    private static final int BATCH = 1_000;
    private static final ReplaceOptions UPSERT = new ReplaceOptions().upsert(true);

    private final MongoCollection<RawBsonDocument> stage;
    private final boolean upsertBase;
    private final List<RawBsonDocument> base = new ArrayList<>();
    /** The batch's changes, the last per document ({@link IdKey}): its id and what it became ({@code null}: deleted). */
    private final Map<String, Map.Entry<BsonValue, RawBsonDocument>> changes = new LinkedHashMap<>();

    StageWriter(MongoCollection<RawBsonDocument> stage, boolean upsertBase) {
        this.stage = stage;
        this.upsertBase = upsertBase;
    }

    void load(RawBsonDocument document) {
        base.add(document);
        if (base.size() >= BATCH) {
            flush();
        }
    }

    /** Records a change: the document as it became, or its deletion. */
    void apply(ChangeRecord change) {
        put(change.id(), change.after());
    }

    /** Records what the document {@code id} becomes: {@code after}, or deleted when {@code null}. */
    void put(BsonValue id, RawBsonDocument after) {
        String key = IdKey.of(id);
        changes.remove(key);
        changes.put(key, new java.util.AbstractMap.SimpleImmutableEntry<>(id, after));
        if (changes.size() >= BATCH) {
            flush();
        }
    }

    void flush() {
        if (!base.isEmpty()) {
            if (upsertBase) {
                stage.bulkWrite(base.stream().<WriteModel<RawBsonDocument>>map(d -> new ReplaceOneModel<>(idFilter(d.get("_id")), d, UPSERT)).toList(),
                    new BulkWriteOptions().ordered(false));
            } else {
                stage.insertMany(base, new InsertManyOptions().ordered(false));
            }
            base.clear();
        }
        if (!changes.isEmpty()) {
            List<WriteModel<RawBsonDocument>> writes = new ArrayList<>(changes.size());
            changes.values().forEach(change -> writes.add(change.getValue() == null ? new DeleteOneModel<>(idFilter(change.getKey()))
                : new ReplaceOneModel<>(idFilter(change.getValue().get("_id")), change.getValue(), UPSERT)));
            stage.bulkWrite(writes, new BulkWriteOptions().ordered(false));
            changes.clear();
        }
    }

    /** Deletes every document outside {@code owned} (markers and documents without a shard key too); returns how many. */
    long keepOnly(List<KeyRange> owned) {
        List<BsonValue> outside = new ArrayList<>();
        long removed = 0;
        try (MongoCursor<RawBsonDocument> cursor = stage.find().projection(Projections.include("_id", io.shardline.core.key.ShardKey.DOCUMENT_FIELD))
            .batchSize(BATCH).iterator()) {
            while (cursor.hasNext()) {
                RawBsonDocument document = cursor.next();
                if (!ShardRestore.owned(document, owned)) {
                    outside.add(document.get("_id"));
                }
            }
        }
        for (int from = 0; from < outside.size(); from += BATCH) {
            removed += stage.deleteMany(Filters.in("_id", outside.subList(from, Math.min(outside.size(), from + BATCH)))).getDeletedCount();
        }
        return removed;
    }

    /**
     * Makes {@code live} equal to the stage: documents that differ are replaced, documents the stage lacks deleted.
     * Each is one write by {@code _id}, captured by the shard's CDC like any other.
     */
    void copyOnto(MongoCollection<RawBsonDocument> live) {
        List<WriteModel<RawBsonDocument>> writes = new ArrayList<>();
        try (MongoCursor<RawBsonDocument> cursor = stage.find().batchSize(BATCH).iterator()) {
            while (cursor.hasNext()) {
                List<RawBsonDocument> batch = new ArrayList<>();
                while (cursor.hasNext() && batch.size() < BATCH) {
                    batch.add(cursor.next());
                }
                Map<BsonValue, RawBsonDocument> current = new LinkedHashMap<>();
                live.find(Filters.in("_id", batch.stream().map(d -> d.get("_id")).toList())).forEach(d -> current.put(d.get("_id"), d));
                for (RawBsonDocument wanted : batch) {
                    if (!wanted.equals(current.get(wanted.get("_id")))) {
                        writes.add(new ReplaceOneModel<>(idFilter(wanted.get("_id")), wanted, UPSERT));
                    }
                }
                writeAll(live, writes);
            }
        }
        try (MongoCursor<RawBsonDocument> cursor = live.find().projection(Projections.include("_id")).batchSize(BATCH).iterator()) {
            List<BsonValue> ids = new ArrayList<>();
            while (cursor.hasNext()) {
                ids.add(cursor.next().get("_id"));
                if (ids.size() >= BATCH || !cursor.hasNext()) {
                    List<BsonValue> kept = new ArrayList<>();
                    stage.find(Filters.in("_id", ids)).projection(Projections.include("_id")).forEach(d -> kept.add(d.get("_id")));
                    ids.stream().filter(id -> !kept.contains(id)).forEach(id -> writes.add(new DeleteOneModel<>(idFilter(id))));
                    ids.clear();
                }
            }
        }
        writeAll(live, writes);
    }

    private static void writeAll(MongoCollection<RawBsonDocument> collection, List<WriteModel<RawBsonDocument>> writes) {
        if (!writes.isEmpty()) {
            collection.bulkWrite(writes, new BulkWriteOptions().ordered(false));
            writes.clear();
        }
    }

    private static BsonDocument idFilter(BsonValue id) {
        return new BsonDocument("_id", id);
    }
}
