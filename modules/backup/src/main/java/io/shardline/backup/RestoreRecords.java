package io.shardline.backup;

import java.util.Map;
import java.util.TreeMap;

import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;

/**
 * The records a restore keeps on the shard it writes to ({@code shardline.restores}, a database the CDC connectors
 * leave out): one per namespace, with the shard restored, the base, the moment and the phase ({@code DONE} once
 * complete). A restore run again resumes from them; a shard replacement checks them.
 */
public final class RestoreRecords {

    static final String DATABASE = "shardline";
    static final String COLLECTION = "restores";
    static final String SHARD = "shard";
    static final String NAMESPACE = "namespace";
    static final String PHASE = "phase";
    static final String DONE = "DONE";
    static final String BASE = "base";
    static final String AT = "at";
    static final String OFFSET = "offset";
    static final String STARTED_AT = "startedAt";

    private RestoreRecords() {
    }

    static MongoCollection<Document> of(MongoClient target) {
        return target.getDatabase(DATABASE).getCollection(COLLECTION);
    }

    /**
     * Per namespace of {@code shardId} whose newest restore on this shard is complete, the first CDC offset that
     * restore did not apply: it holds every change before it. A namespace whose newest restore did not finish is
     * left out.
     */
    public static Map<String, Long> completed(MongoClient target, String shardId) {
        Map<String, Document> newest = new TreeMap<>();
        for (Document record : of(target).find(Filters.eq(SHARD, shardId))) {
            Document known = newest.get(record.getString(NAMESPACE));
            if (known == null || record.getLong(STARTED_AT) > known.getLong(STARTED_AT)) {
                newest.put(record.getString(NAMESPACE), record);
            }
        }
        Map<String, Long> offsets = new TreeMap<>();
        newest.forEach((namespace, record) -> {
            if (DONE.equals(record.getString(PHASE)) && record.get(OFFSET) != null) {
                offsets.put(namespace, record.getLong(OFFSET));
            }
        });
        return offsets;
    }

    /** The base of an unfinished restore of {@code shardId} to {@code at} on this shard, or {@code null}: a rerun resumes from it. */
    static String unfinishedBase(MongoClient target, String shardId, long at) {
        // Looked for without querying a collection that is not there: on some servers a query creates its database.
        if (!target.getDatabase(DATABASE).listCollectionNames().into(new java.util.ArrayList<>()).contains(COLLECTION)) {
            return null;
        }
        Document record = of(target).find(Filters.and(Filters.eq(SHARD, shardId), Filters.eq(AT, at), Filters.ne(PHASE, DONE))).first();
        return record == null ? null : record.getString(BASE);
    }
}
