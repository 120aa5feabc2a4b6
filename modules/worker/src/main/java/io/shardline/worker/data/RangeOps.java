package io.shardline.worker.data;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.bson.conversions.Bson;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.DeleteOneModel;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOneModel;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.Sorts;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.WriteModel;

/**
 * What a migration does to one key range of one collection on two shards. Documents carry their encoded shard key as
 * a hex string in {@code _sk}; hex compares as the keys do, so a range is {@code {_sk: {$gte: min, $lt: max}}}.
 * Documents travel as raw BSON, so a copy is byte-identical to its original.
 */
public final class RangeOps {

    /** The stored shard-key field (as the router writes it). */
    public static final String KEY_FIELD = io.shardline.core.key.ShardKey.DOCUMENT_FIELD;
    /** Documents per reply of a scan: a whole range in one reply would exceed the wire protocol's message size. */
    private static final int SCAN_BATCH = 1_000;
    /**
     * Ids per query of a lookup by id. A shard may hold a collection's lock for the whole of a query (the embedded
     * shard does), so writes to the range wait as long as the longest lookup: many small ones keep that wait short.
     */
    static final int LOOKUP_BATCH = 500;

    private final MongoCollection<RawBsonDocument> from;
    private final MongoCollection<RawBsonDocument> to;
    private final String minHex;
    private final String maxHex;
    private final Runnable guard;

    /** Ranges only read (verification tools): no write is guarded. */
    public RangeOps(MongoCollection<RawBsonDocument> from, MongoCollection<RawBsonDocument> to, String minHex, String maxHex) {
        this(from, to, minHex, maxHex, () -> { });
    }

    /**
     * @param from   where the range is read from (the authoritative side)
     * @param to     where it is written
     * @param maxHex exclusive upper bound, {@code null} for +infinity
     * @param guard  run before every write or delete; it throws when the caller may no longer change the shards
     */
    public RangeOps(MongoCollection<RawBsonDocument> from, MongoCollection<RawBsonDocument> to, String minHex, String maxHex, Runnable guard) {
        this.from = from;
        this.to = to;
        this.minHex = minHex;
        this.maxHex = maxHex;
        this.guard = guard;
    }

    /** The part {@code [minHex, maxHex)} of this range, between the same two sides. */
    public RangeOps sub(String min, String max) {
        return new RangeOps(from, to, min, max, guard);
    }

    public Bson rangeFilter() {
        return rangeFilter(minHex);
    }

    private Bson rangeFilter(String fromHex) {
        Bson lower = Filters.gte(KEY_FIELD, fromHex);
        return maxHex == null ? lower : Filters.and(lower, Filters.lt(KEY_FIELD, maxHex));
    }

    public boolean inRange(RawBsonDocument document) {
        BsonValue key = document.get(KEY_FIELD);
        if (!(key instanceof BsonString hex)) {
            return false;
        }
        return hex.getValue().compareTo(minHex) >= 0 && (maxHex == null || hex.getValue().compareTo(maxHex) < 0);
    }

    /** Documents of the range on the authoritative side. */
    public long count() {
        return from.countDocuments(rangeFilter());
    }

    /**
     * The documents from {@code fromHex} on, in key order, as one cursor fetching {@code batchSize} at a time: the
     * shard sorts the range once, rather than once per batch. A MongoDB shard without an index on the key sorts in
     * memory, up to 100 MB unless allowed to spill to disk: it is allowed.
     */
    public com.mongodb.client.MongoCursor<RawBsonDocument> scan(String fromHex, int batchSize) {
        return from.find(rangeFilter(fromHex)).sort(Sorts.ascending(KEY_FIELD, "_id")).allowDiskUse(true).batchSize(batchSize).iterator();
    }

    /**
     * Writes documents to the other side, replacing what is there under the same {@code _id}. A copy mostly meets an
     * empty range, so documents are inserted in one unordered batch; only those already there (a resumed copy) are
     * replaced one by one.
     */
    public void write(List<RawBsonDocument> documents) {
        if (documents.isEmpty()) {
            return;
        }
        guard.run();
        List<RawBsonDocument> present = new ArrayList<>();
        try {
            to.insertMany(documents, new com.mongodb.client.model.InsertManyOptions().ordered(false));
            return;
        } catch (com.mongodb.MongoBulkWriteException partly) {
            for (com.mongodb.bulk.BulkWriteError error : partly.getWriteErrors()) {
                if (error.getCategory() != com.mongodb.ErrorCategory.DUPLICATE_KEY) {
                    throw partly;
                }
                present.add(documents.get(error.getIndex()));
            }
        }
        replace(present);
    }

    private void replace(List<RawBsonDocument> documents) {
        if (documents.isEmpty()) {
            return;
        }
        List<WriteModel<RawBsonDocument>> writes = new ArrayList<>(documents.size());
        for (RawBsonDocument document : documents) {
            writes.add(new ReplaceOneModel<>(Filters.eq("_id", document.get("_id")), document, new ReplaceOptions().upsert(true)));
        }
        to.bulkWrite(writes, new BulkWriteOptions().ordered(false));
    }

    /**
     * Makes the other side hold what the authoritative side holds now for each of these documents: the document if it
     * is in the range, nothing of the range under its id otherwise. Idempotent, and the order of changes is irrelevant.
     *
     * @return documents written or removed
     */
    public int sync(Collection<BsonValue> ids) {
        if (ids.size() > LOOKUP_BATCH) {
            int done = 0;
            for (List<BsonValue> batch : batches(ids)) {
                done += sync(batch);
            }
            return done;
        }
        if (ids.isEmpty()) {
            return 0;
        }
        List<RawBsonDocument> present = from.find(Filters.in("_id", ids)).into(new ArrayList<>());
        guard.run();
        List<WriteModel<RawBsonDocument>> writes = new ArrayList<>(ids.size());
        java.util.Set<BsonValue> kept = new java.util.HashSet<>();
        for (RawBsonDocument document : present) {
            if (inRange(document)) {
                kept.add(document.get("_id"));
                writes.add(new ReplaceOneModel<>(Filters.eq("_id", document.get("_id")), document, new ReplaceOptions().upsert(true)));
            }
        }
        for (BsonValue id : ids) {
            if (!kept.contains(id)) {
                writes.add(new DeleteOneModel<>(Filters.and(Filters.eq("_id", id), rangeFilter())));
            }
        }
        to.bulkWrite(writes, new BulkWriteOptions().ordered(false));
        return writes.size();
    }

    /** Count and order-independent hash of the range on one side. */
    public record Digest(long count, long h0, long h1, long h2, long h3) {
    }

    public Digest digestFrom() {
        return digest(from, rangeFilter());
    }

    public Digest digestTo() {
        return digest(to, rangeFilter());
    }

    /**
     * Ids whose documents differ between the two sides (or exist on one side only), found by walking both sides of
     * the range in {@code _id} order together; at most {@code limit} of them.
     */
    public List<BsonValue> mismatches(int limit) {
        List<BsonValue> found = new ArrayList<>();
        try (var left = from.find(rangeFilter()).sort(Sorts.ascending("_id")).allowDiskUse(true).batchSize(SCAN_BATCH).iterator();
             var right = to.find(rangeFilter()).sort(Sorts.ascending("_id")).allowDiskUse(true).batchSize(SCAN_BATCH).iterator()) {
            RawBsonDocument a = left.hasNext() ? left.next() : null;
            RawBsonDocument b = right.hasNext() ? right.next() : null;
            while ((a != null || b != null) && found.size() < limit) {
                int order = a == null ? 1 : b == null ? -1 : compareIds(a.get("_id"), b.get("_id"));
                if (order == 0) {
                    if (!a.getByteBuffer().asNIO().equals(b.getByteBuffer().asNIO())) {
                        found.add(a.get("_id"));
                    }
                    a = left.hasNext() ? left.next() : null;
                    b = right.hasNext() ? right.next() : null;
                } else if (order < 0) {
                    found.add(a.get("_id"));
                    a = left.hasNext() ? left.next() : null;
                } else {
                    found.add(b.get("_id"));
                    b = right.hasNext() ? right.next() : null;
                }
            }
        }
        return found;
    }

    /**
     * Orders ids of the same kind as the shards do; ids of mixed kinds may be ordered otherwise, which can only flag
     * extra ids (each is rechecked one by one), never miss a difference: every document of both sides is visited.
     */
    private static int compareIds(BsonValue a, BsonValue b) {
        if (a.getBsonType() == b.getBsonType() && a.isString()) {
            return a.asString().getValue().compareTo(b.asString().getValue());
        }
        if (a.getBsonType() == b.getBsonType() && a.isObjectId()) {
            return a.asObjectId().getValue().compareTo(b.asObjectId().getValue());
        }
        if (a.isNumber() && b.isNumber()) {
            return Double.compare(a.asNumber().doubleValue(), b.asNumber().doubleValue());
        }
        return Integer.compare(a.getBsonType().getValue(), b.getBsonType().getValue());
    }

    /** Those of these ids whose documents (within the range) differ between the two sides, or exist on one only. */
    public java.util.Set<BsonValue> differing(Collection<BsonValue> ids) {
        java.util.Set<BsonValue> differ = new java.util.HashSet<>();
        if (ids.size() > LOOKUP_BATCH) {
            for (List<BsonValue> batch : batches(ids)) {
                differ.addAll(differing(batch));
            }
            return differ;
        }
        if (ids.isEmpty()) {
            return differ;
        }
        Bson filter = Filters.and(Filters.in("_id", ids), rangeFilter());
        java.util.Map<BsonValue, ByteBuffer> left = new java.util.HashMap<>();
        for (RawBsonDocument document : from.find(filter)) {
            left.put(document.get("_id"), document.getByteBuffer().asNIO());
        }
        for (RawBsonDocument document : to.find(filter)) {
            ByteBuffer mine = left.remove(document.get("_id"));
            if (mine == null || !mine.equals(document.getByteBuffer().asNIO())) {
                differ.add(document.get("_id"));
            }
        }
        differ.addAll(left.keySet());
        return differ;
    }

    private static List<List<BsonValue>> batches(Collection<BsonValue> ids) {
        List<BsonValue> all = List.copyOf(ids);
        List<List<BsonValue>> batches = new ArrayList<>();
        for (int from = 0; from < all.size(); from += LOOKUP_BATCH) {
            batches.add(all.subList(from, Math.min(all.size(), from + LOOKUP_BATCH)));
        }
        return batches;
    }

    /** Digests of these documents (by id, within the range) on both sides: equal when the two sides agree on them. */
    public boolean sameOnBothSides(Collection<BsonValue> ids) {
        if (ids.isEmpty()) {
            return true;
        }
        Bson filter = Filters.and(Filters.in("_id", ids), rangeFilter());
        return digest(from, filter).equals(digest(to, filter));
    }

    /** What a bounded comparison found. */
    public enum Agreement {
        SAME, DIFFERENT,
        /** The deadline came before every document was compared. */
        UNFINISHED
    }

    /**
     * {@link #sameOnBothSides(Collection)} in batches of {@code batchSize} ids, giving up at the deadline: for a
     * comparison that must end in time (writes to the range are held while it runs).
     */
    public Agreement sameOnBothSides(Collection<BsonValue> ids, int batchSize, long deadlineMillis) {
        List<BsonValue> all = List.copyOf(ids);
        for (int from = 0; from < all.size(); from += batchSize) {
            if (System.currentTimeMillis() >= deadlineMillis) {
                return Agreement.UNFINISHED;
            }
            if (!sameOnBothSides(all.subList(from, Math.min(all.size(), from + batchSize)))) {
                return Agreement.DIFFERENT;
            }
        }
        return Agreement.SAME;
    }

    private static Digest digest(MongoCollection<RawBsonDocument> collection, Bson filter) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
        long count = 0;
        long[] lanes = new long[4];
        for (RawBsonDocument document : collection.find(filter).batchSize(SCAN_BATCH)) {
            ByteBuffer bytes = document.getByteBuffer().asNIO();
            sha.reset();
            sha.update(bytes);
            ByteBuffer hash = ByteBuffer.wrap(sha.digest());
            for (int i = 0; i < 4; i++) {
                lanes[i] += hash.getLong(); // a sum of hashes: the order documents come in does not matter
            }
            count++;
        }
        return new Digest(count, lanes[0], lanes[1], lanes[2], lanes[3]);
    }

    /**
     * Deletes the range from the side it was copied from, in batches, pausing between them; returns how many.
     *
     * @param beforeBatch run before each batch is deleted (after the guard): it throws to stop the deletion, for
     *                    example when the routing shows the shard owns the range again
     */
    public long deleteFromSource(int batchSize, long pauseMillis, Runnable beforeBatch) throws InterruptedException {
        return deleteRange(from, batchSize, pauseMillis, beforeBatch);
    }

    /** Deletes the range from the side it was copied to (a copy given up), checking as {@link #deleteFromSource} does. */
    public long deleteFromTarget(int batchSize, long pauseMillis, Runnable beforeBatch) throws InterruptedException {
        return deleteRange(to, batchSize, pauseMillis, beforeBatch);
    }

    private long deleteRange(MongoCollection<RawBsonDocument> collection, int batchSize, long pauseMillis, Runnable beforeBatch)
        throws InterruptedException {
        long deleted = 0;
        while (true) {
            List<BsonValue> ids = new ArrayList<>();
            for (RawBsonDocument document : collection.find(rangeFilter()).projection(new BsonDocument("_id", new org.bson.BsonInt32(1))).limit(batchSize)) {
                ids.add(document.get("_id"));
            }
            if (ids.isEmpty()) {
                return deleted;
            }
            guard.run();
            beforeBatch.run();
            long removed = collection.deleteMany(Filters.and(Filters.in("_id", ids), rangeFilter())).getDeletedCount();
            deleted += removed;
            if (pauseMillis > 0) {
                Thread.sleep(pauseMillis);
            }
        }
    }

    /** The same range the other way round (for the replay back to the source after a cutover). */
    public RangeOps reversed() {
        return new RangeOps(to, from, minHex, maxHex, guard);
    }
}
