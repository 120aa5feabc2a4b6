package io.shardline.shard.internal;

import de.bwaldvogel.mongo.backend.aggregation.Aggregation;
import de.bwaldvogel.mongo.bson.BsonTimestamp;

/**
 * An open change stream: where it reads in the oplog (a sequence number, so a {@code getMore} never rescans),
 * the stages after {@code $changeStream}, and the high-water mark reported as {@code postBatchResumeToken}.
 */
final class ChangeStreamCursor {

    private final long id;
    private final ChangeStreamScope scope;
    private final Aggregation stages;
    private final boolean withPostImage;
    private long nextSequence;
    private BsonTimestamp highWaterMark;
    private boolean invalidated;
    private volatile long lastUsedNanos = System.nanoTime();

    ChangeStreamCursor(long id, ChangeStreamScope scope, Aggregation stages, boolean withPostImage,
                       long nextSequence, BsonTimestamp highWaterMark) {
        this.id = id;
        this.scope = scope;
        this.stages = stages;
        this.withPostImage = withPostImage;
        this.nextSequence = nextSequence;
        this.highWaterMark = highWaterMark;
    }

    long id() {
        return id;
    }

    ChangeStreamScope scope() {
        return scope;
    }

    Aggregation stages() {
        return stages;
    }

    boolean withPostImage() {
        return withPostImage;
    }

    long nextSequence() {
        return nextSequence;
    }

    BsonTimestamp highWaterMark() {
        return highWaterMark;
    }

    boolean invalidated() {
        return invalidated;
    }

    void advance(long sequence, BsonTimestamp scannedUpTo) {
        this.nextSequence = sequence;
        if (scannedUpTo != null) {
            this.highWaterMark = scannedUpTo;
        }
    }

    void invalidate() {
        this.invalidated = true;
    }

    void touch() {
        lastUsedNanos = System.nanoTime();
    }

    long idleNanos() {
        return System.nanoTime() - lastUsedNanos;
    }
}
