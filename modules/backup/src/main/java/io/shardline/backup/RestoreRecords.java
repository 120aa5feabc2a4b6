package io.shardline.backup;

import java.util.Set;
import java.util.TreeSet;

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

    private RestoreRecords() {
    }

    static MongoCollection<Document> of(MongoClient target) {
        return target.getDatabase(DATABASE).getCollection(COLLECTION);
    }

    /** The namespaces of {@code shardId} that a completed restore wrote to this shard. */
    public static Set<String> completed(MongoClient target, String shardId) {
        Set<String> namespaces = new TreeSet<>();
        of(target).find(Filters.and(Filters.eq(SHARD, shardId), Filters.eq(PHASE, DONE))).forEach(record -> namespaces.add(record.getString(NAMESPACE)));
        return namespaces;
    }
}
