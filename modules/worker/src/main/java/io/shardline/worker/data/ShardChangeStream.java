package io.shardline.worker.data;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

import com.mongodb.client.MongoChangeStreamCursor;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Aggregates;
import com.mongodb.client.model.Projections;
import com.mongodb.client.model.changestream.ChangeStreamDocument;
import com.mongodb.client.model.changestream.OperationType;

/**
 * A collection's change stream read straight from its shard with the MongoDB driver, from the moment it is opened:
 * the ids of documents inserted, updated, replaced or deleted there. It skips the connector and the broker, so a
 * change is seen within milliseconds of its write however far behind the CDC topic runs. A stream that ends
 * (collection dropped or renamed) fails its next poll.
 */
public final class ShardChangeStream implements ChangeSource, AutoCloseable {

    /** How long one poll of the shard waits for the first change. */
    private static final long AWAIT_MILLIS = 2;
    private static final int MAX_PER_POLL = 2_000;

    private final MongoChangeStreamCursor<ChangeStreamDocument<RawBsonDocument>> cursor;
    private boolean behind = true;

    private ShardChangeStream(MongoChangeStreamCursor<ChangeStreamDocument<RawBsonDocument>> cursor) {
        this.cursor = cursor;
    }

    /** Opens the stream; every change written after this returns is seen by {@link #poll}. */
    public static ShardChangeStream open(MongoCollection<RawBsonDocument> collection) {
        return new ShardChangeStream(collection.watch(List.of(Aggregates.project(Projections.include("operationType", "documentKey", "ns", "wallTime")))
            ).maxAwaitTime(AWAIT_MILLIS, TimeUnit.MILLISECONDS).batchSize(MAX_PER_POLL).cursor());
    }

    @Override
    public List<CdcTail.Change> poll(Duration wait) {
        // A live stream is never done: a poll ends at the wait, at the first empty reply after some changes, or full.
        List<CdcTail.Change> changes = new ArrayList<>();
        long deadline = System.nanoTime() + wait.toNanos();
        while (changes.size() < MAX_PER_POLL) {
            ChangeStreamDocument<RawBsonDocument> change = cursor.tryNext();
            if (change != null) {
                changes.add(new CdcTail.Change(-1, idOf(change), change.getWallTime() == null ? System.currentTimeMillis()
                    : change.getWallTime().getValue(), null, null));
            }
            if (change == null && !changes.isEmpty() || System.nanoTime() >= deadline) {
                break;
            }
        }
        behind = changes.size() >= MAX_PER_POLL;
        return changes;
    }

    @Override
    public boolean behind() {
        return behind;
    }

    private static BsonValue idOf(ChangeStreamDocument<RawBsonDocument> change) {
        OperationType type = change.getOperationType();
        if (type != OperationType.INSERT && type != OperationType.UPDATE && type != OperationType.REPLACE && type != OperationType.DELETE) {
            throw new IllegalStateException("the change stream of " + change.getNamespace() + " ended: " + change.getOperationTypeString());
        }
        BsonDocument key = change.getDocumentKey();
        if (key == null || !key.containsKey("_id")) {
            throw new IllegalStateException("documentKey._id: missing from a " + change.getOperationTypeString() + " change");
        }
        return key.get("_id");
    }

    @Override
    public void close() {
        cursor.close();
    }
}
