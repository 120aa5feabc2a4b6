package io.shardline.shard.internal;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * {@code findAndModify} with its change recorded: mongo-java-server applies it without telling the oplog, so
 * the document it will touch is found first (same query and sort) and the change is recorded after.
 * Runs under the namespace lock, so nothing else writes in between.
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

        Document response = backend.handleUnwrapped(channel, databaseName, command, query);

        boolean remove = Boolean.TRUE.equals(query.get("remove"));
        if (targetId != null) {
            if (remove) {
                oplog.handleDelete(namespace, filter, java.util.List.of(targetId));
            } else if (query.get("update") instanceof Document update) {
                oplog.handleUpdate(namespace, filter, update, java.util.List.of(targetId));
            }
        } else if (!remove && Boolean.TRUE.equals(query.get("upsert"))) {
            Object upsertedId = firstMatchingId(backend.collection(databaseName, collectionName), filter, null);
            if (upsertedId != null) {
                oplog.handleInsert(namespace, java.util.List.of(backend.findById(namespace, upsertedId)));
            }
        }
        return response;
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
