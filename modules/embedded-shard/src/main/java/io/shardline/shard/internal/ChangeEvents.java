package io.shardline.shard.internal;

import java.util.Collection;
import java.util.Map;

import de.bwaldvogel.mongo.bson.Document;

/** Renders oplog entries as change events in MongoDB's shape (field names and order as MongoDB 6 writes them). */
final class ChangeEvents {

    private ChangeEvents() {
    }

    static Document render(OplogEntry entry, boolean withPostImage) {
        Document event = new Document("_id", ResumeToken.of(entry.clusterTime()))
            .append("operationType", entry.op().operationType())
            .append("clusterTime", entry.clusterTime())
            .append("wallTime", entry.wallTime());
        boolean postImage = switch (entry.op()) {
            case INSERT, REPLACE -> true;
            case UPDATE -> withPostImage;
            case DELETE, DROP -> false;
        };
        if (postImage) {
            event.append("fullDocument", entry.fullDocument().cloneDeeply());
        }
        event.append("ns", new Document("db", entry.database()).append("coll", entry.collection()));
        if (entry.op() != OpType.DROP) {
            event.append("documentKey", new Document("_id", entry.documentId()));
        }
        if (entry.op() == OpType.UPDATE) {
            event.append("updateDescription", entry.updateDescription().cloneDeeply());
        }
        return event;
    }

    static Document invalidate(OplogEntry drop) {
        return new Document("_id", ResumeToken.of(drop.clusterTime()))
            .append("operationType", "invalidate")
            .append("clusterTime", drop.clusterTime())
            .append("wallTime", drop.wallTime());
    }

    /** A rough BSON size, enough to keep batches far from the reply limit. */
    static long estimateSize(Object value) {
        if (value instanceof Document document) {
            long size = 5;
            for (Map.Entry<String, Object> field : document.entrySet()) {
                size += field.getKey().length() + 2 + estimateSize(field.getValue());
            }
            return size;
        }
        if (value instanceof Collection<?> items) {
            long size = 5;
            for (Object item : items) {
                size += 4 + estimateSize(item);
            }
            return size;
        }
        if (value instanceof String text) {
            return 5L + text.length() * 3L;
        }
        if (value instanceof byte[] bytes) {
            return 5L + bytes.length;
        }
        return 8;
    }
}
