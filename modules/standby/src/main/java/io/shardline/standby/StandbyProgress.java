package io.shardline.standby;

import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.bson.Document;
import org.bson.conversions.Bson;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.UpdateOptions;
import com.mongodb.client.model.Updates;

import io.shardline.core.standby.StandbyProgressLayout;

/**
 * How far a standby got, kept on the standby itself ({@code shardline.standby}, a database the CDC connectors leave
 * out): one document per namespace, {@code {_id: "<db>.<coll>", topic, offset, clusterTime, appliedAt}}. {@code offset} is the last
 * record of the namespace's CDC topic the sink has dealt with: every record up to it is applied, or changes nothing (an
 * update whose post-image is missing, a tombstone), or went to the dead-letter topic, unreadable or refused by the
 * standby. For those, {@code reported} holds the newest one's offset, since replaying the topic cannot apply them
 * either. Without {@code reported}, the standby holds every change the topic captured up to {@code offset}.
 * {@code clusterTime} is the shard's cluster time of the latest change dealt with (a {@code BsonTimestamp}'s value as a
 * long): a router that wrote to the shard at a cluster time no later than it knows its write is on the standby
 * ({@link StandbyProgressLayout}), unless it is among {@code refusedClusterTimes}, the changes the standby refused.
 */
public final class StandbyProgress {

    static final String DATABASE = StandbyProgressLayout.DATABASE;
    static final String COLLECTION = StandbyProgressLayout.COLLECTION;
    static final String TOPIC = "topic";
    static final String OFFSET = "offset";
    static final String APPLIED_AT = "appliedAt";
    static final String REPORTED = "reported";
    static final String CLUSTER_TIME = StandbyProgressLayout.CLUSTER_TIME;
    static final String REFUSED_CLUSTER_TIMES = StandbyProgressLayout.REFUSED_CLUSTER_TIMES;
    static final String PROMOTION = "standbyPromotion";

    private StandbyProgress() {
    }

    /** Per CDC topic, the offset of the last record the standby has dealt with (see the class description). */
    public static Map<String, Long> applied(MongoClient standby) {
        return read(standby, OFFSET);
    }

    /** Per CDC topic that had any, the offset of the newest record sent to the dead-letter topic instead of applied. */
    public static Map<String, Long> reported(MongoClient standby) {
        return read(standby, REPORTED);
    }

    private static Map<String, Long> read(MongoClient standby, String field) {
        Map<String, Long> offsets = new TreeMap<>();
        for (Document progress : of(standby).find(Filters.exists(field))) {
            offsets.put(progress.getString(TOPIC), ((Number) progress.get(field)).longValue());
        }
        return offsets;
    }

    static MongoCollection<Document> of(MongoClient standby) {
        return standby.getDatabase(DATABASE).getCollection(COLLECTION);
    }

    /**
     * Records that the namespace's records up to {@code offset} are dealt with; {@code reported} is the newest of them
     * sent to the dead-letter topic, or negative when none was.
     */
    static void record(MongoClient standby, String namespace, String topic, long offset, long reported, long clusterTime, List<Long> refused) {
        Bson update = Updates.combine(Updates.set(TOPIC, topic), Updates.set(OFFSET, offset), Updates.set(APPLIED_AT, new Date()));
        if (reported >= 0) {
            update = Updates.combine(update, Updates.max(REPORTED, reported));
        }
        if (clusterTime > 0) {
            update = Updates.combine(update, Updates.max(CLUSTER_TIME, clusterTime));
        }
        if (!refused.isEmpty()) {
            update = Updates.combine(update, Updates.addEachToSet(REFUSED_CLUSTER_TIMES, refused));
        }
        of(standby).updateOne(Filters.eq("_id", namespace), update, new UpdateOptions().upsert(true));
    }

    /**
     * Records that the sink resumes the namespace's topic at {@code next}, an offset set through Connect or by a seeding (the standby
     * seeded with everything before it): the records before it count as dealt with, none as reported.
     */
    public static void resumeAt(MongoClient standby, String namespace, String topic, long next) {
        of(standby).replaceOne(Filters.eq("_id", namespace),
            new Document("_id", namespace).append(TOPIC, topic).append(OFFSET, next - 1).append(APPLIED_AT, new Date()),
            new ReplaceOptions().upsert(true));
    }

    /**
     * Marks the standby promoted: from then on its sink applies nothing more (the shard's CDC topics soon carry the
     * standby's own writes, which must not be applied back over newer ones). A standby seeded anew loses the mark.
     */
    public static void markPromoted(MongoClient standby) {
        standby.getDatabase(DATABASE).getCollection(PROMOTION).replaceOne(Filters.eq("_id", PROMOTION),
            new Document("_id", PROMOTION).append("promotedAt", new Date()), new ReplaceOptions().upsert(true));
    }

    /** True once the standby was promoted ({@link #markPromoted}). */
    public static boolean promoted(MongoClient standby) {
        return standby.getDatabase(DATABASE).getCollection(PROMOTION).find(Filters.eq("_id", PROMOTION)).first() != null;
    }

    /** Removes the promotion mark: a failover that did not complete leaves the standby a standby. */
    public static void unmarkPromoted(MongoClient standby) {
        standby.getDatabase(DATABASE).getCollection(PROMOTION).deleteMany(new Document());
    }

    /** Forgets everything a seeding or a promotion recorded on the standby, before it is seeded anew. */
    public static void clear(MongoClient standby) {
        of(standby).deleteMany(new Document());
        standby.getDatabase(DATABASE).getCollection(PROMOTION).deleteMany(new Document());
    }

    /** Forgets the namespace's progress: the sink starts its topic over. */
    static void forget(MongoClient standby, String namespace) {
        of(standby).deleteOne(Filters.eq("_id", namespace));
    }
}
