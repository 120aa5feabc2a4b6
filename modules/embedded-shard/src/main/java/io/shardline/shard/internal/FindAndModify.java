package io.shardline.shard.internal;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * {@code findAndModify} with its change recorded: mongo-java-server applies it without telling the oplog, so
 * the document it will touch is found first (same query and sort) and the change is recorded after.
 * Runs under the namespace lock, so nothing else writes in between. The reply carries MongoDB's
 * {@code lastErrorObject} whatever the outcome, which mongo-java-server leaves out but after a matched update; an
 * upsert's new {@code _id} is the one its filter or update gives, else a new ObjectId the shard chooses before it runs.
 */
final class FindAndModify {

    private FindAndModify() {
    }

    static Document recorded(ShardBackend backend, ChangeStreamOplog oplog, Channel channel, String databaseName,
                             String command, Document query) {
        String collectionName = String.valueOf(query.get(command));
        String namespace = databaseName + "." + collectionName;
        Document filter = query.get("query") instanceof Document q ? q : new Document();
        Object targetId = firstMatchingId(backend.collection(databaseName, collectionName), filter, query.get("sort"));
        boolean remove = Boolean.TRUE.equals(query.get("remove"));
        Object upsertedId = null;
        Document run = query;
        if (targetId == null && !remove && Boolean.TRUE.equals(query.get("upsert")) && query.get("update") instanceof Document update) {
            upsertedId = idOf(filter);
            if (upsertedId == null) {
                upsertedId = idOf(update);
            }
            if (upsertedId == null) {
                // As MongoDB, a new ObjectId; given here so that the inserted document is known whatever the filter.
                upsertedId = new de.bwaldvogel.mongo.bson.ObjectId();
                run = new Document(query);
                run.put("update", withId(update, upsertedId));
            }
        }

        Document response = backend.handleUnwrapped(channel, databaseName, command, run);

        Document lastError = new Document("n", targetId == null ? 0 : 1);
        if (!remove) {
            lastError.put("updatedExisting", targetId != null);
        }
        if (targetId != null) {
            if (remove) {
                oplog.handleDelete(namespace, filter, java.util.List.of(targetId));
            } else if (query.get("update") instanceof Document update) {
                oplog.handleUpdate(namespace, filter, update, java.util.List.of(targetId));
            }
        } else if (upsertedId != null) {
            lastError.put("n", 1);
            lastError.put("upserted", upsertedId);
            oplog.handleInsert(namespace, java.util.List.of(backend.findById(namespace, upsertedId)));
        }
        return withLastError(response, lastError);
    }

    /** The {@code _id} a filter fixes by equality (at its top level or in an {@code $and}), or an update sets; else null. */
    private static Object idOf(Document document) {
        Object id = document.get("_id");
        if (id instanceof Document operators && operators.keySet().stream().anyMatch(k -> k.startsWith("$"))) {
            id = operators.size() == 1 ? operators.get("$eq") : null;
        }
        if (id != null) {
            return id;
        }
        for (String nested : java.util.List.of("$and", "$setOnInsert", "$set")) {
            Object value = document.get(nested);
            for (Object branch : value instanceof java.util.List<?> list ? list : value == null ? java.util.List.of() : java.util.List.of(value)) {
                if (branch instanceof Document inner && (id = idOf(inner)) != null) {
                    return id;
                }
            }
        }
        return null;
    }

    /** The update with {@code id} as the inserted document's {@code _id}: in a replacement, or in {@code $setOnInsert}. */
    private static Document withId(Document update, Object id) {
        Document copy = new Document(update);
        if (update.keySet().stream().noneMatch(k -> k.startsWith("$"))) {
            copy.put("_id", id);
            return copy;
        }
        Document setOnInsert = update.get("$setOnInsert") instanceof Document existing ? new Document(existing) : new Document();
        setOnInsert.put("_id", id);
        copy.put("$setOnInsert", setOnInsert);
        return copy;
    }

    /**
     * The reply with MongoDB's {@code lastErrorObject} first: {@code n}, and for an update {@code updatedExisting} and the
     * {@code upserted} id (mongo-java-server gives it only when an update matched).
     */
    private static Document withLastError(Document response, Document lastError) {
        Document reply = new Document("lastErrorObject", lastError);
        response.forEach((field, value) -> {
            if (!field.equals("lastErrorObject")) {
                reply.put(field, value);
            }
        });
        return reply;
    }

    private static Object firstMatchingId(MongoCollection<?> collection, Document filter, Object sort) {
        if (collection == null) {
            return null;
        }
        Document queryObject = new Document("query", filter);
        if (sort instanceof Document order) {
            queryObject.put("orderby", order);
        }
        for (Document document : collection.handleQuery(queryObject, 0, 1)) {
            return document.get("_id");
        }
        return null;
    }
}
