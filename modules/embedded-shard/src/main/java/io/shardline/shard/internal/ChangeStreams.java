package io.shardline.shard.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.DatabaseResolver;
import de.bwaldvogel.mongo.backend.aggregation.Aggregation;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerError;

/**
 * Serves {@code aggregate} with a leading {@code $changeStream} stage and the {@code getMore}s of its cursors
 * from a {@link ChangeStreamOplog}: resume with {@code resumeAfter}, {@code startAfter} or
 * {@code startAtOperationTime}; {@code getMore} waits up to {@code maxTimeMS}; every reply carries a
 * {@code postBatchResumeToken}.
 */
final class ChangeStreams {

    static final int CHANGE_STREAM_HISTORY_LOST = 286;
    private static final long CURSOR_ID_BASE = 0x4000_0000_0000_0000L;
    private static final long IDLE_CURSOR_TIMEOUT_NANOS = TimeUnit.MINUTES.toNanos(10);
    /** Bounds a batch well under MongoDB's 16 MiB reply, whatever the batch size asked for. */
    private static final long MAX_BATCH_BYTES = 8L * 1024 * 1024;
    private static final int DEFAULT_MAX_BATCH = 1_000;

    private final ChangeStreamOplog oplog;
    private final Duration defaultAwait;
    private final Map<Long, ChangeStreamCursor> cursors = new ConcurrentHashMap<>();
    private final AtomicLong cursorIds = new AtomicLong(CURSOR_ID_BASE);

    ChangeStreams(ChangeStreamOplog oplog, Duration defaultAwait) {
        this.oplog = oplog;
        this.defaultAwait = defaultAwait;
    }

    static boolean isChangeStream(Document aggregate) {
        return aggregate.get("pipeline") instanceof List<?> pipeline && !pipeline.isEmpty()
            && pipeline.get(0) instanceof Document first && first.containsKey("$changeStream");
    }

    boolean owns(long cursorId) {
        return cursors.containsKey(cursorId);
    }

    Document open(String databaseName, Document query, DatabaseResolver resolver, MongoDatabase database) {
        expireIdleCursors();
        List<Document> pipeline = Aggregation.parse(query.get("pipeline"));
        Document options = (Document) pipeline.get(0).get("$changeStream");
        ChangeStreamScope scope = scopeOf(databaseName, query.get("aggregate"), options);
        boolean withPostImage = postImageRequested(options);
        rejectUnavailablePreImages(options);
        Aggregation stages = Aggregation.fromPipeline(pipeline.subList(1, pipeline.size()), resolver, database, null, oplog);

        long start;
        BsonTimestamp highWaterMark;
        if (options.containsKey("resumeAfter") || options.containsKey("startAfter")) {
            String option = options.containsKey("resumeAfter") ? "resumeAfter" : "startAfter";
            BsonTimestamp after = ResumeToken.clusterTime(options.get(option), option);
            requireRetained(after, false);
            start = oplog.sequenceAfter(after);
            highWaterMark = after;
        } else if (options.get("startAtOperationTime") instanceof BsonTimestamp at) {
            requireRetained(at, true);
            BsonTimestamp justBefore = new BsonTimestamp(at.getValue() - 1);
            start = oplog.sequenceAfter(justBefore);
            highWaterMark = justBefore;
        } else {
            start = oplog.nextSequence();
            highWaterMark = oplog.lastClusterTime();
        }
        ChangeStreamCursor cursor = new ChangeStreamCursor(cursorIds.incrementAndGet(), scope, stages, withPostImage,
            start, highWaterMark);
        int batchSize = batchSize(query.get("cursor"));
        // The first batch never waits, as on MongoDB; an explicit batchSize 0 returns an empty first batch.
        List<Document> batch = batchSize == 0 ? List.of() : nextBatch(cursor, batchSize, 0);
        cursors.put(cursor.id(), cursor);
        return reply(cursor, "firstBatch", batch);
    }

    Document getMore(Document query) {
        long cursorId = ((Number) query.get("getMore")).longValue();
        ChangeStreamCursor cursor = cursors.get(cursorId);
        if (cursor == null) {
            throw new MongoServerError(43, "CursorNotFound", "cursor id " + cursorId + " not found");
        }
        cursor.touch();
        int batchSize = query.get("batchSize") instanceof Number n ? n.intValue() : -1;
        long awaitMillis = query.get("maxTimeMS") instanceof Number n ? n.longValue() : defaultAwait.toMillis();
        List<Document> batch = nextBatch(cursor, batchSize, ChangeStreamOplog.toNanos(awaitMillis));
        return reply(cursor, "nextBatch", batch);
    }

    /** Removes the given ids that are change-stream cursors and returns those it removed. */
    List<Long> kill(List<?> cursorIds) {
        List<Long> killed = new ArrayList<>();
        for (Object id : cursorIds) {
            if (id instanceof Number number && cursors.remove(number.longValue()) != null) {
                killed.add(number.longValue());
            }
        }
        return killed;
    }

    private List<Document> nextBatch(ChangeStreamCursor cursor, int batchSize, long awaitNanos) {
        int max = batchSize > 0 ? batchSize : DEFAULT_MAX_BATCH;
        long deadline = System.nanoTime() + awaitNanos;
        List<Document> batch = new ArrayList<>();
        long bytes = 0;
        try {
            while (batch.isEmpty() && !cursor.invalidated()) {
                long wait = Math.max(0, deadline - System.nanoTime());
                List<OplogEntry> entries = oplog.read(cursor.nextSequence(), max, wait);
                if (entries.isEmpty()) {
                    break;
                }
                for (OplogEntry entry : entries) {
                    if (batch.size() >= max || bytes >= MAX_BATCH_BYTES) {
                        break;
                    }
                    cursor.advance(entry.sequence() + 1, entry.clusterTime());
                    if (!cursor.scope().matches(entry)) {
                        continue;
                    }
                    List<Document> events = cursor.stages().runStages(
                        java.util.stream.Stream.of(ChangeEvents.render(entry, cursor.withPostImage())));
                    for (Document event : events) {
                        batch.add(event);
                        bytes += ChangeEvents.estimateSize(event);
                    }
                    if (cursor.scope().invalidatedBy(entry)) {
                        batch.add(ChangeEvents.invalidate(entry));
                        cursor.invalidate();
                        break;
                    }
                }
                if (System.nanoTime() >= deadline) {
                    break;
                }
            }
        } catch (ChangeStreamOplog.HistoryLostException e) {
            cursors.remove(cursor.id());
            throw historyLost();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MongoServerError(11601, "Interrupted", "change stream read interrupted");
        }
        if (cursor.invalidated()) {
            cursors.remove(cursor.id());
        }
        return batch;
    }

    private Document reply(ChangeStreamCursor cursor, String batchField, List<Document> batch) {
        Document cursorDocument = new Document(batchField, batch)
            .append("postBatchResumeToken", ResumeToken.of(cursor.highWaterMark()))
            .append("id", cursor.invalidated() ? 0L : cursor.id())
            .append("ns", cursor.scope().cursorNamespace());
        return new Document("cursor", cursorDocument).append("ok", 1.0);
    }

    private void requireRetained(BsonTimestamp position, boolean inclusive) {
        BsonTimestamp trimmed = oplog.lastTrimmed();
        if (trimmed == null) {
            return;
        }
        int cmp = position.compareTo(trimmed);
        if (inclusive ? cmp <= 0 : cmp < 0) {
            throw historyLost();
        }
    }

    private static MongoServerError historyLost() {
        return new MongoServerError(CHANGE_STREAM_HISTORY_LOST, "ChangeStreamHistoryLost",
            "Resume of change stream was not possible, as the resume point may no longer be in the oplog.");
    }

    private static ChangeStreamScope scopeOf(String databaseName, Object aggregateTarget, Document options) {
        boolean allChangesForCluster = Boolean.TRUE.equals(options.get("allChangesForCluster"));
        if (allChangesForCluster) {
            if (!"admin".equals(databaseName)) {
                throw new MongoServerError(ErrorCodes.INVALID_OPTIONS, "InvalidOptions",
                    "$changeStream may only be opened on the 'admin' database if allChangesForCluster is true");
            }
            return ChangeStreamScope.cluster();
        }
        if (aggregateTarget instanceof String collection) {
            return new ChangeStreamScope(databaseName, collection);
        }
        if ("admin".equals(databaseName)) {
            throw new MongoServerError(ErrorCodes.INVALID_OPTIONS, "InvalidOptions",
                "$changeStream on the 'admin' database requires allChangesForCluster: true");
        }
        return new ChangeStreamScope(databaseName, null);
    }

    private static boolean postImageRequested(Document options) {
        Object mode = options.getOrDefault("fullDocument", "default");
        return switch (String.valueOf(mode)) {
            case "default" -> false;
            case "updateLookup", "whenAvailable", "required" -> true;
            default -> throw new MongoServerError(ErrorCodes.BAD_VALUE, "BadValue",
                "fullDocument: unknown mode '" + mode + "'");
        };
    }

    private static void rejectUnavailablePreImages(Document options) {
        if ("required".equals(options.get("fullDocumentBeforeChange"))) {
            throw new MongoServerError(ErrorCodes.BAD_VALUE, "BadValue",
                "fullDocumentBeforeChange: 'required' is not available, this shard records post-images only");
        }
    }

    private static int batchSize(Object cursorOption) {
        if (cursorOption instanceof Document cursor && cursor.get("batchSize") instanceof Number n) {
            return n.intValue();
        }
        return -1;
    }

    private void expireIdleCursors() {
        cursors.values().removeIf(cursor -> cursor.idleNanos() > IDLE_CURSOR_TIMEOUT_NANOS);
    }

    /** Error codes as MongoDB numbers them. */
    static final class ErrorCodes {
        static final int BAD_VALUE = 2;
        static final int INVALID_OPTIONS = 72;

        private ErrorCodes() {
        }
    }
}
