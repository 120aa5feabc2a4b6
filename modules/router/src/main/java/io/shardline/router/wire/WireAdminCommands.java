package io.shardline.router.wire;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.function.BiFunction;

import org.bson.Document;

import com.mongodb.MongoCommandException;

import io.shardline.router.ShardRouter;
import io.shardline.router.api.QueryCursor;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.ShardCommandException;
import io.shardline.router.internal.ShardKeyField;

/**
 * Index and collection administration on a sharded namespace, as mongos does it: {@code createIndexes},
 * {@code dropIndexes} and {@code create} run on every shard that may hold the namespace's chunks (every registered
 * shard but the RETIRED), so that a chunk moved later finds its indexes on its new owner; {@code listIndexes} answers
 * from one of them; {@code drop} is refused. The shard-key index on {@code _sk} is Shardline's own: it is not listed,
 * and no command creates or drops an index on {@code _sk}.
 */
final class WireAdminCommands {

    /** Answers a listing as a cursor the router holds, paged by the client's batch size. */
    interface FirstBatch {
        Document reply(WireSession session, String namespace, QueryCursor cursor, int batchSize, boolean singleBatch);
    }

    /** The fields of a {@code create} that are no collection option: sessions, write concern, the wire's own. */
    private static final Set<String> CREATE_GENERIC_FIELDS = Set.of("create", "writeConcern", "comment", "lsid", "txnNumber",
        "autocommit", "apiVersion", "apiStrict", "apiDeprecationErrors", "maxTimeMS");

    private final ShardRouter router;
    private final FirstBatch firstBatch;

    WireAdminCommands(ShardRouter router, FirstBatch firstBatch) {
        this.router = router;
        this.firstBatch = firstBatch;
    }

    void register(Map<String, BiFunction<WireSession, WireMessage, Document>> commands) {
        commands.put("createIndexes", this::createIndexes);
        commands.put("listIndexes", this::listIndexes);
        commands.put("dropIndexes", this::dropIndexes);
        commands.put("create", this::create);
        commands.put("drop", this::drop);
    }

    /** The namespace a command names, checked to be sharded: {@code NamespaceNotFound} otherwise. */
    private String namespace(WireMessage message, CommandFields fields, String command) {
        String namespace = message.database() + "." + fields.string(command);
        if (!router.namespaces().contains(namespace)) {
            throw new RouterException(RouterException.Kind.NOT_FOUND, "namespace " + namespace + " is not sharded (no config on the config topic)");
        }
        return namespace;
    }

    private static String collection(String namespace) {
        return namespace.substring(namespace.indexOf('.') + 1);
    }

    private Document createIndexes(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("createIndexes", message.command());
        String namespace = namespace(message, fields, "createIndexes");
        List<Document> indexes = fields.documents("indexes");
        if (indexes.isEmpty()) {
            throw new WireCommandException(WireError.BAD_VALUE, "createIndexes.indexes: at least one index is required");
        }
        List<String> shardKey = router.shardKeyFields(namespace);
        for (int i = 0; i < indexes.size(); i++) {
            CommandFields index = new CommandFields("createIndexes.indexes." + i, indexes.get(i));
            Document key = index.document("key");
            if (key == null || key.isEmpty()) {
                throw new WireCommandException(WireError.FAILED_TO_PARSE, "createIndexes.indexes." + i + ".key: an index key is required");
            }
            if (namesShardKeyField(key)) {
                throw new WireCommandException(WireError.BAD_VALUE, "createIndexes.indexes." + i + ".key: " + ShardKeyField.NAME
                    + " is reserved: it holds each document's encoded shard key, and Shardline keeps its own index on it");
            }
            if (index.bool("unique", false) && !key.keySet().containsAll(shardKey)) {
                throw new WireCommandException(WireError.CANNOT_CREATE_INDEX, "createIndexes.indexes." + i + ": a unique index on "
                    + namespace + " must include every shard-key field " + shardKey + ", was " + key.keySet()
                    + ": the shards could only enforce it each on its own documents");
            }
        }
        Document command = new Document("createIndexes", collection(namespace)).append("indexes", indexes);
        SortedMap<String, Document> replies;
        try {
            replies = router.runOnShards(router.shardIds(), message.database(), command);
        } finally {
            router.indexesChanged(namespace); // also when some shard failed: the others may hold the index
        }
        Document first = replies.isEmpty() ? new Document() : replies.get(replies.firstKey());
        Document reply = new Document("numIndexesBefore", first.get("numIndexesBefore", 0))
            .append("numIndexesAfter", first.get("numIndexesAfter", 0))
            .append("createdCollectionAutomatically", first.getBoolean("createdCollectionAutomatically", false));
        if (first.containsKey("note")) {
            reply.append("note", first.get("note"));
        }
        Document raw = new Document();
        replies.forEach((shard, shardReply) -> raw.append(shard, ownFields(shardReply)));
        return reply.append("raw", raw).append("ok", 1.0);
    }

    private Document listIndexes(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("listIndexes", message.command());
        String namespace = namespace(message, fields, "listIndexes");
        Document cursorOptions = fields.document("cursor", new Document());
        int batchSize = new CommandFields("listIndexes.cursor", cursorOptions).nonNegativeInt("batchSize", WireCommands.DEFAULT_FIRST_BATCH);
        SortedSet<String> shards = router.shardIds();
        if (shards.isEmpty()) {
            throw new RouterException(RouterException.Kind.RETRYABLE, "listIndexes: no shard is registered on the shards topic (yet)");
        }
        String shard = shards.first();
        List<Document> listed = listIndexes(List.of(shard), message.database(), namespace).get(shard);
        List<Document> visible = listed.stream().filter(index -> !namesShardKeyField(keyOf(index))).toList();
        return firstBatch.reply(session, namespace, new ListCursor(visible, List.of(shard), List.of()), batchSize, false);
    }

    /** Each shard's indexes of a namespace, read in parallel: a collection has at most 64, so they fit in a first batch. */
    private Map<String, List<Document>> listIndexes(java.util.Collection<String> shards, String database, String namespace) {
        Map<String, List<Document>> listed = new LinkedHashMap<>();
        router.runOnShards(shards, database, new Document("listIndexes", collection(namespace))).forEach((shard, reply) -> {
            Document cursor = reply.get("cursor") instanceof Document found ? found : new Document();
            if (!(cursor.get("firstBatch") instanceof List<?> batch)) {
                throw new RouterException(RouterException.Kind.SHARD_ERROR, "shard " + shard + " answered listIndexes without a cursor: "
                    + reply.toJson());
            }
            if (cursor.get("id") instanceof Number id && id.longValue() != 0) {
                throw new RouterException(RouterException.Kind.SHARD_ERROR, "shard " + shard + " lists more indexes of " + namespace
                    + " than its first batch holds");
            }
            List<Document> indexes = new ArrayList<>();
            for (Object index : batch) {
                if (index instanceof Document document) {
                    indexes.add(document);
                }
            }
            listed.put(shard, indexes);
        });
        return listed;
    }

    private Document dropIndexes(WireSession session, WireMessage message) {
        String command = message.commandName();
        CommandFields fields = new CommandFields(command, message.command());
        String namespace = namespace(message, fields, command);
        Object index = message.command().get("index");
        if (index == null) {
            throw new WireCommandException(WireError.FAILED_TO_PARSE, command + ".index: the index to drop is required "
                + "(a name, an array of names, a key pattern or \"*\")");
        }
        SortedSet<String> shards = router.shardIds();
        Map<String, List<Document>> listed = listIndexes(shards, message.database(), namespace);
        // index name -> the shards holding it
        Map<String, SortedSet<String>> toDrop = new LinkedHashMap<>();
        boolean all = "*".equals(index);
        if (all) {
            listed.forEach((shard, indexes) -> droppableNames(indexes)
                .forEach(name -> toDrop.computeIfAbsent(name, n -> new java.util.TreeSet<>()).add(shard)));
        } else {
            for (Object wanted : wantedIndexes(command, index)) {
                refuseReserved(command, wanted, listed);
                boolean found = false;
                for (Map.Entry<String, List<Document>> shard : listed.entrySet()) {
                    for (Document present : shard.getValue()) {
                        if (matches(present, wanted) && present.get("name") instanceof String name) {
                            toDrop.computeIfAbsent(name, n -> new java.util.TreeSet<>()).add(shard.getKey());
                            found = true;
                        }
                    }
                }
                if (!found) {
                    throw new WireCommandException(WireError.INDEX_NOT_FOUND, command + ": " + namespace + " has no index "
                        + (wanted instanceof Document key ? "with key " + key.toJson() : "named '" + wanted + "'") + " on any shard");
                }
            }
        }
        try {
            toDrop.forEach((name, holders) -> router.runOnShards(holders, message.database(),
                new Document("dropIndexes", collection(namespace)).append("index", name)));
        } finally {
            router.indexesChanged(namespace);
        }
        Document reply = new Document("nIndexesWas", shards.isEmpty() ? 0 : listed.get(shards.first()).size());
        if (all) {
            reply.append("msg", "non-_id indexes dropped for collection");
        }
        return reply.append("ok", 1.0);
    }

    /** The indexes a {@code dropIndexes} names: one name or key pattern, or an array of names. */
    private static List<Object> wantedIndexes(String command, Object index) {
        if (index instanceof String || index instanceof Document) {
            return List.of(index);
        }
        if (index instanceof List<?> names && !names.isEmpty()) {
            List<Object> wanted = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                if (!(names.get(i) instanceof String name) || name.equals("*")) {
                    throw new WireCommandException(WireError.TYPE_MISMATCH, command + ".index." + i + " must be an index name, was "
                        + names.get(i));
                }
                wanted.add(name);
            }
            return wanted;
        }
        throw new WireCommandException(WireError.TYPE_MISMATCH, command + ".index must be a name, an array of names, a key pattern "
            + "or \"*\", was " + index);
    }

    /** The {@code _id} index cannot be dropped, as on MongoDB; nor can the shard-key index, which reads and migrations use. */
    private static void refuseReserved(String command, Object wanted, Map<String, List<Document>> listed) {
        boolean idIndex = "_id_".equals(wanted) || wanted instanceof Document key && sameKey(key, new Document("_id", 1));
        if (idIndex) {
            throw new WireCommandException(WireError.INVALID_OPTIONS, command + ": cannot drop _id index");
        }
        boolean shardKeyIndex = wanted instanceof Document key ? namesShardKeyField(key) : listed.values().stream()
            .flatMap(List::stream).anyMatch(index -> wanted.equals(index.get("name")) && namesShardKeyField(keyOf(index)));
        if (shardKeyIndex) {
            throw new WireCommandException(WireError.INVALID_OPTIONS, command + ": cannot drop the index on " + ShardKeyField.NAME
                + ": Shardline reads and migrates chunks by it");
        }
    }

    private static Set<String> droppableNames(List<Document> indexes) {
        Set<String> names = new LinkedHashSet<>();
        for (Document index : indexes) {
            Document key = keyOf(index);
            if (!sameKey(key, new Document("_id", 1)) && !namesShardKeyField(key) && index.get("name") instanceof String name) {
                names.add(name);
            }
        }
        return names;
    }

    private static boolean matches(Document index, Object wanted) {
        return wanted instanceof Document key ? sameKey(keyOf(index), key) : wanted.equals(index.get("name"));
    }

    private static Document keyOf(Document index) {
        return index.get("key") instanceof Document key ? key : new Document();
    }

    /** Whether an index key names {@code _sk} or a path under it. */
    static boolean namesShardKeyField(Document key) {
        return key.keySet().stream().anyMatch(field -> field.equals(ShardKeyField.NAME) || field.startsWith(ShardKeyField.NAME + "."));
    }

    /** Whether two key patterns are the same: the same fields in the same order, directions equal as numbers. */
    static boolean sameKey(Document a, Document b) {
        if (a.size() != b.size()) {
            return false;
        }
        var left = a.entrySet().iterator();
        var right = b.entrySet().iterator();
        while (left.hasNext()) {
            Map.Entry<String, Object> x = left.next();
            Map.Entry<String, Object> y = right.next();
            if (!x.getKey().equals(y.getKey())) {
                return false;
            }
            boolean same = x.getValue() instanceof Number m && y.getValue() instanceof Number n
                ? m.doubleValue() == n.doubleValue() : java.util.Objects.equals(x.getValue(), y.getValue());
            if (!same) {
                return false;
            }
        }
        return true;
    }

    /** A shard's reply without the fields of its own cluster ({@code $clusterTime}, {@code operationTime}). */
    private static Document ownFields(Document reply) {
        Document own = new Document();
        reply.forEach((field, value) -> {
            if (!field.startsWith("$") && !field.equals("operationTime")) {
                own.append(field, value);
            }
        });
        return own;
    }

    private Document create(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("create", message.command());
        String namespace = namespace(message, fields, "create");
        for (String field : message.command().keySet()) {
            // Drivers send capped: false with every create.
            boolean plain = field.equals("capped") && !fields.bool("capped", false);
            if (!field.startsWith("$") && !CREATE_GENERIC_FIELDS.contains(field) && !plain) {
                throw new WireCommandException(WireError.INVALID_OPTIONS, "create." + field + ": collection options are not supported "
                    + "by the router; " + namespace + " is created plainly on every shard");
            }
        }
        try {
            router.runOnShards(router.shardIds(), message.database(), new Document("create", collection(namespace)));
        } catch (ShardCommandException e) {
            boolean onlyExisting = e.failures().values().stream()
                .allMatch(failure -> failure instanceof MongoCommandException shard && shard.getErrorCode() == WireError.NAMESPACE_EXISTS);
            if (!onlyExisting) {
                throw e;
            }
        }
        return new Document("ok", 1.0);
    }

    private Document drop(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("drop", message.command());
        String namespace = namespace(message, fields, "drop");
        throw new WireCommandException(WireError.ILLEGAL_OPERATION, "drop: " + namespace + " is a sharded namespace: its config and "
            + "routing still name it, and routers, workers and CDC would go on using the collections a drop deletes on its shards; "
            + "Shardline has no operator command that unregisters a namespace, so the router does not drop it");
    }
}
