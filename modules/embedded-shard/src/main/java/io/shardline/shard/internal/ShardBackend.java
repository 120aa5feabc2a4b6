package io.shardline.shard.internal;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.Oplog;
import de.bwaldvogel.mongo.wire.BsonConstants;
import de.bwaldvogel.mongo.wire.MongoWireProtocolHandler;
import io.netty.channel.Channel;

/**
 * mongo-java-server's memory backend made to behave as the primary of a one-member replica set:
 * {@code hello} names the set, every reply carries {@code operationTime} (a write's: the cluster time of its own last
 * oplog entry, or of its namespace's latest when it changed nothing), writes to a namespace are recorded in
 * the oplog in the order they were applied, and change streams are served by {@link ChangeStreams}.
 */
public final class ShardBackend extends MemoryBackend {

    private static final int WIRE_VERSION = 17; // MongoDB 6.0
    private static final List<Integer> VERSION = List.of(6, 0, 0);
    private static final List<String> SYSTEM_DATABASES = List.of("admin", "config", "local");

    private final String replicaSetName;
    /** The data commands a configured service time applies to. */
    private static final java.util.Set<String> SERVED_COMMANDS = java.util.Set.of("find", "getmore", "insert", "update", "delete", "findandmodify",
        "aggregate", "count", "distinct");
    private static final java.util.Set<String> WRITE_COMMANDS = java.util.Set.of("insert", "update", "delete", "findandmodify");
    private final long serviceNanos;
    private final ChangeStreamOplog changeStreamOplog;
    private final ChangeStreams changeStreams;
    private final Map<String, Object> namespaceLocks = new ConcurrentHashMap<>();
    private volatile String me = "127.0.0.1:0";

    /**
     * @param replicaSetName        the name {@code hello} answers with
     * @param oplogRetentionEntries how many change events the oplog keeps
     * @param defaultAwaitTime      how long a change-stream {@code getMore} without {@code maxTimeMS} waits
     */
    public ShardBackend(String replicaSetName, int oplogRetentionEntries, Duration defaultAwaitTime, Duration serviceTime) {
        super(Clock.systemUTC());
        this.replicaSetName = replicaSetName;
        this.serviceNanos = serviceTime.toNanos();
        this.changeStreamOplog = new ChangeStreamOplog(oplogRetentionEntries, getClock(), this::findById);
        this.changeStreams = new ChangeStreams(changeStreamOplog, defaultAwaitTime);
        version(new de.bwaldvogel.mongo.MongoVersion() {
            @Override
            public List<Integer> getVersionArray() {
                return VERSION;
            }

            @Override
            public int getWireVersion() {
                return WIRE_VERSION;
            }
        });
        enableOplog();
    }

    /** Sets the address the member announces in {@code hello} once the server is bound. */
    public void announce(String hostAndPort) {
        this.me = hostAndPort;
    }

    public ChangeStreamOplog oplog() {
        return changeStreamOplog;
    }

    @Override
    protected Oplog createOplog() {
        return changeStreamOplog;
    }

    @Override
    public de.bwaldvogel.mongo.backend.memory.MemoryDatabase openOrCreateDatabase(String databaseName) {
        return new ShardDatabase(databaseName, getCursorRegistry());
    }

    @Override
    public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
        if (serviceNanos > 0 && SERVED_COMMANDS.contains(command.toLowerCase(Locale.ROOT)) && !waitsForChanges(query)) {
            java.util.concurrent.locks.LockSupport.parkNanos(serviceNanos);
        }
        ChangeStreamOplog.startCommand();
        Document response = dispatch(channel, databaseName, command, query);
        if (response != null && !response.containsKey("operationTime")) {
            response.put("operationTime", operationTime(databaseName, command, query));
        }
        ChangeStreamOplog.startCommand();
        return response;
    }

    /**
     * A write's reply time: its own last oplog entry's; for a write that changed nothing, that of the namespace's
     * latest entry, which it saw (zero when the namespace has none), so that a client waiting for a copy of the shard to
     * reach that time waits for that namespace only; for any other command, the shard's latest.
     */
    private BsonTimestamp operationTime(String databaseName, String command, Document query) {
        BsonTimestamp written = ChangeStreamOplog.appendedByCommand();
        if (written != null) {
            return written;
        }
        if (WRITE_COMMANDS.contains(command.toLowerCase(Locale.ROOT)) && query.get(command) instanceof String collection) {
            BsonTimestamp seen = changeStreamOplog.lastClusterTime(databaseName + "." + collection);
            return seen != null ? seen : new BsonTimestamp(0);
        }
        return changeStreamOplog.lastClusterTime();
    }

    /**
     * Whether a command may wait for change events: a change stream's {@code aggregate}, or a {@code getMore} of one of
     * its cursors. The wire server runs the connections that send them on threads of their own.
     */
    boolean waitsForChanges(Document command) {
        if (command.isEmpty()) {
            return false;
        }
        String name = command.keySet().iterator().next();
        return name.equalsIgnoreCase("aggregate") ? ChangeStreams.isChangeStream(command)
            : name.equalsIgnoreCase("getMore") && command.get(name) instanceof Number id && changeStreams.owns(id.longValue());
    }

    private Document dispatch(Channel channel, String databaseName, String command, Document query) {
        switch (command.toLowerCase(Locale.ROOT)) {
            case "hello", "ismaster":
                return hello(command);
            case "aggregate":
                if (ChangeStreams.isChangeStream(query)) {
                    return changeStreams.open(databaseName, query, this::resolveDatabase, resolveDatabase(databaseName));
                }
                synchronized (namespaceLock(databaseName, query.get(command))) {
                    return detached(super.handleCommand(channel, databaseName, command, query));
                }
            case "getmore":
                if (query.get(command) instanceof Number id && changeStreams.owns(id.longValue())) {
                    return changeStreams.getMore(query);
                }
                synchronized (namespaceLock(databaseName, query.get("collection"))) {
                    return detached(super.handleCommand(channel, databaseName, command, query));
                }
            case "find": {
                // mongo-java-server answers with the stored documents themselves and updates them in place: the answer is
                // copied under the namespace's write lock, or a write while it is sent would show in it, half applied. The
                // look-up's check of its candidate and its read by _id happen under the same lock.
                synchronized (namespaceLock(databaseName, query.get(command))) {
                    Document pinned = IdLookup.find(this, channel, databaseName, command, query);
                    return detached(pinned != null ? pinned : super.handleCommand(channel, databaseName, command, query));
                }
            }
            case "listdatabases":
                return withSystemDatabases(super.handleCommand(channel, databaseName, command, query));
            case "killcursors":
                return killCursors(channel, databaseName, command, query);
            case "insert", "update", "delete":
                synchronized (namespaceLock(databaseName, query.get(command))) {
                    Document byId = command.equalsIgnoreCase("delete") ? IdLookup.rewriteDelete(this, databaseName, command, query) : null;
                    return super.handleCommand(channel, databaseName, command, byId != null ? byId : query);
                }
            case "findandmodify":
                synchronized (namespaceLock(databaseName, query.get(command))) {
                    Document reply = FindAndModify.recorded(this, changeStreamOplog, channel, databaseName, command, query);
                    if (reply.get("value") instanceof Document value) {
                        reply.put("value", value.cloneDeeply());
                    }
                    return reply;
                }
            default:
                return super.handleCommand(channel, databaseName, command, query);
        }
    }

    /** A cursor reply whose documents are copies, not the stored documents a later update changes in place. */
    private static Document detached(Document reply) {
        if (reply.get("cursor") instanceof Document cursor) {
            for (String batch : List.of("firstBatch", "nextBatch")) {
                if (cursor.get(batch) instanceof List<?> documents) {
                    List<Object> copies = new java.util.ArrayList<>(documents.size());
                    for (Object document : documents) {
                        copies.add(document instanceof Document d ? d.cloneDeeply() : document);
                    }
                    cursor.put(batch, copies);
                }
            }
        }
        return reply;
    }

    /** Runs a command through mongo-java-server itself; for helpers that wrap a command. */
    Document handleUnwrapped(Channel channel, String databaseName, String command, Document query) {
        return super.handleCommand(channel, databaseName, command, query);
    }

    private Document hello(String command) {
        Document response = new Document();
        if (command.equalsIgnoreCase("hello")) {
            response.put("isWritablePrimary", Boolean.TRUE);
        } else {
            response.put("ismaster", Boolean.TRUE);
        }
        response.put("helloOk", Boolean.TRUE);
        response.put("secondary", Boolean.FALSE);
        response.put("setName", replicaSetName);
        response.put("setVersion", 1);
        response.put("hosts", List.of(me));
        response.put("primary", me);
        response.put("me", me);
        response.put("electionId", new de.bwaldvogel.mongo.bson.ObjectId("7fffffff0000000000000001"));
        Instant now = getClock().instant();
        response.put("lastWrite", new Document("opTime", new Document("ts", changeStreamOplog.lastClusterTime()).append("t", 1L))
            .append("lastWriteDate", now));
        response.put("maxBsonObjectSize", BsonConstants.MAX_BSON_OBJECT_SIZE);
        response.put("maxMessageSizeBytes", MongoWireProtocolHandler.MAX_MESSAGE_SIZE_BYTES);
        response.put("maxWriteBatchSize", MongoWireProtocolHandler.MAX_WRITE_BATCH_SIZE);
        response.put("localTime", now);
        response.put("minWireVersion", 0);
        response.put("maxWireVersion", WIRE_VERSION);
        response.put("readOnly", Boolean.FALSE);
        response.put("ok", 1.0);
        return response;
    }

    /** A replica set member always lists admin, config and local, even before anything was written to them. */
    private static Document withSystemDatabases(Document response) {
        if (!(response.get("databases") instanceof List<?> listed)) {
            return response;
        }
        List<Object> databases = new ArrayList<>(listed);
        for (String name : SYSTEM_DATABASES) {
            boolean present = databases.stream().anyMatch(db -> db instanceof Document d && name.equals(d.get("name")));
            if (!present) {
                databases.add(new Document("name", name).append("sizeOnDisk", 8192L).append("empty", Boolean.FALSE));
            }
        }
        response.put("databases", databases);
        return response;
    }

    private Document killCursors(Channel channel, String databaseName, String command, Document query) {
        List<?> requested = query.get("cursors") instanceof List<?> list ? list : List.of();
        List<Long> killed = changeStreams.kill(requested);
        List<Object> others = new ArrayList<>(requested);
        others.removeIf(id -> id instanceof Number n && killed.contains(n.longValue()));
        Document response;
        if (others.isEmpty()) {
            response = new Document("cursorsKilled", new ArrayList<>(killed)).append("cursorsNotFound", List.of()).append("ok", 1.0);
        } else {
            Document rest = query.clone();
            rest.put("cursors", others);
            response = super.handleCommand(channel, databaseName, command, rest);
            @SuppressWarnings("unchecked")
            List<Object> all = new ArrayList<>((List<Object>) response.getOrDefault("cursorsKilled", List.of()));
            all.addAll(killed);
            response.put("cursorsKilled", all);
        }
        return response;
    }

    private Object namespaceLock(String databaseName, Object collection) {
        return namespaceLocks.computeIfAbsent(databaseName + "." + collection, ns -> new Object());
    }

    /** The current document with the given _id (through the _id index), or {@code null}. */
    Document findById(String namespace, Object id) {
        int dot = namespace.indexOf('.');
        MongoCollection<?> collection = collection(namespace.substring(0, dot), namespace.substring(dot + 1));
        if (collection == null) {
            return null;
        }
        for (Document document : collection.handleQuery(new Document("_id", id), 0, 1)) {
            return document.cloneDeeply();
        }
        return null;
    }

    MongoCollection<?> collection(String databaseName, String collectionName) {
        MongoDatabase database = resolveDatabase(databaseName);
        return database.resolveCollection(collectionName, false);
    }

    @Override
    public void close() {
        changeStreamOplog.wakeReaders();
        super.close();
    }
}
