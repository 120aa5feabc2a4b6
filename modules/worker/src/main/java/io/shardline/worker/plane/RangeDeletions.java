package io.shardline.worker.plane;

import java.util.ArrayList;
import java.util.List;

import org.bson.BsonDocument;
import org.bson.BsonNull;
import org.bson.BsonString;
import org.bson.conversions.Bson;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;

/**
 * Deletions of a key range a shard is to lose, recorded on that shard (as MongoDB records its range deletion tasks on
 * the donor): written by a migration before the range can leave the shard's ownership (at the start of a move for the
 * source, before a copy is given up for the target) and removed once the range is deleted or the migration no longer
 * needs it deleted. A migration into a shard waits while the shard has a recorded deletion of an overlapping range, so
 * no copy can land where a deletion is still to run.
 *
 * <p>Stored in {@value #DATABASE}.{@value #COLLECTION}, one document per migration and side.
 */
public final class RangeDeletions {

    public static final String DATABASE = "shardline";
    public static final String COLLECTION = "range_deletions";

    /** Which side of its migration a deletion is on. */
    public enum Side {
        /** The range leaves the source after the cutover's grace period. */
        SOURCE,
        /** The copy is removed from the target when the migration is given up or rolled back. */
        TARGET
    }

    /** A recorded deletion: a migration's range that the shard is to lose. */
    public record Task(String migrationId, Side side, String namespace, String minHex, String maxHex) {

        String id() {
            return migrationId + ":" + side.name().toLowerCase(java.util.Locale.ROOT);
        }

        boolean overlaps(String min, String max) {
            boolean startsBeforeItsEnd = max == null || minHex.compareTo(max) < 0;
            boolean endsAfterItsStart = maxHex == null || maxHex.compareTo(min) > 0;
            return startsBeforeItsEnd && endsAfterItsStart;
        }

        public String describe() {
            return "[" + minHex + ", " + (maxHex == null ? "+inf" : maxHex) + ") of " + namespace + " (migration " + migrationId + ", "
                + side.name().toLowerCase(java.util.Locale.ROOT) + ")";
        }
    }

    private final MongoCollection<BsonDocument> tasks;

    public RangeDeletions(MongoCollection<BsonDocument> tasks) {
        this.tasks = tasks;
    }

    public void record(Task task) {
        BsonDocument document = new BsonDocument("_id", new BsonString(task.id()))
            .append("migrationId", new BsonString(task.migrationId()))
            .append("side", new BsonString(task.side().name()))
            .append("ns", new BsonString(task.namespace()))
            .append("min", new BsonString(task.minHex()))
            .append("max", task.maxHex() == null ? BsonNull.VALUE : new BsonString(task.maxHex()));
        tasks.replaceOne(Filters.eq("_id", task.id()), document, new ReplaceOptions().upsert(true));
    }

    public void remove(String migrationId, Side side) {
        tasks.deleteOne(Filters.eq("_id", new Task(migrationId, side, "", "", null).id()));
    }

    /** Recorded deletions on this shard of ranges overlapping {@code [min, max)} of the namespace, other than the migration's own. */
    public List<Task> overlapping(String namespace, String min, String max, String exceptMigrationId) {
        List<Task> found = new ArrayList<>();
        Bson filter = Filters.eq("ns", namespace);
        for (BsonDocument document : tasks.find(filter)) {
            BsonDocument maxValue = new BsonDocument("v", document.get("max", BsonNull.VALUE));
            Task task = new Task(document.getString("migrationId").getValue(), Side.valueOf(document.getString("side").getValue()), namespace,
                document.getString("min").getValue(), maxValue.isNull("v") ? null : maxValue.getString("v").getValue());
            if (!task.migrationId().equals(exceptMigrationId) && task.overlaps(min, max)) {
                found.add(task);
            }
        }
        return found;
    }
}
