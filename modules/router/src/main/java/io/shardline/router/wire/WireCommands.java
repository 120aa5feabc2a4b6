package io.shardline.router.wire;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

import org.bson.Document;
import org.bson.RawBsonDocument;

import io.shardline.router.ShardRouter;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.FindResult;
import io.shardline.router.api.InsertOutcome;
import io.shardline.router.api.QueryCursor;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.WriteResult;
import io.shardline.router.internal.SimpleMatcher;

/**
 * The commands the wire router answers, each on the same {@link ShardRouter} as the HTTP API. A command this
 * router does not know is {@code CommandNotFound}; one it knows but cannot run exactly is refused naming what.
 */
final class WireCommands {

    /** MongoDB 7.0's wire version: current drivers (and mongosh) accept it. */
    static final int MAX_WIRE_VERSION = 21;
    static final int MAX_WRITE_BATCH_SIZE = 100_000;
    static final int LOGICAL_SESSION_TIMEOUT_MINUTES = 30;
    /** The size of a find's or aggregation's first batch when the client names none, as on MongoDB. */
    static final int DEFAULT_FIRST_BATCH = 101;

    private final ShardRouter router;
    private final WireCursors cursors;
    private final WireServerStats stats;
    private final RetryableWrites retryable;
    private final WireTransactions transactions;
    private final WireUsers users;
    private final WireAuthentication authentication;
    private final Map<String, BiFunction<WireSession, WireMessage, Document>> commands = new java.util.HashMap<>();

    /** Commands a client may run before it authenticates: the handshake and authentication itself. */
    private static final Set<String> BEFORE_AUTHENTICATION = Set.of("hello", "isMaster", "ismaster", "saslStart", "saslContinue", "ping",
        "buildInfo", "buildinfo", "endSessions", "connectionStatus", "whatsmyuri");
    private static final Set<String> WRITES = Set.of("insert", "update", "delete", "findAndModify", "findandmodify");
    private static final Set<String> ADMINISTRATION = Set.of("createIndexes", "dropIndexes", "create", "drop");

    WireCommands(ShardRouter router, WireCursors cursors, WireServerStats stats, RetryableWrites retryable, WireUsers users) {
        this.router = router;
        this.cursors = cursors;
        this.stats = stats;
        this.retryable = retryable;
        this.transactions = new WireTransactions(router);
        this.users = users;
        this.authentication = new WireAuthentication(users);
        commands.put("saslStart", authentication::saslStart);
        commands.put("saslContinue", authentication::saslContinue);
        commands.put("hello", this::hello);
        commands.put("isMaster", this::hello);
        commands.put("ismaster", this::hello);
        commands.put("ping", (session, message) -> ok());
        commands.put("buildInfo", (session, message) -> buildInfo());
        commands.put("buildinfo", (session, message) -> buildInfo());
        commands.put("serverStatus", (session, message) -> serverStatus());
        commands.put("endSessions", this::endSessions);
        commands.put("connectionStatus", this::connectionStatus);
        commands.put("whatsmyuri", (session, message) -> ok().append("you", session.peer()));
        commands.put("listDatabases", this::listDatabases);
        commands.put("listCollections", this::listCollections);
        commands.put("find", this::find);
        commands.put("getMore", this::getMore);
        commands.put("killCursors", this::killCursors);
        commands.put("count", this::count);
        commands.put("distinct", this::distinct);
        commands.put("aggregate", this::aggregate);
        commands.put("insert", this::insert);
        commands.put("update", this::update);
        commands.put("delete", this::delete);
        new WireAdminCommands(router, this::firstBatch).register(commands);
        WireFindAndModify findAndModify = new WireFindAndModify(router);
        commands.put("findAndModify", findAndModify::run);
        commands.put("findandmodify", findAndModify::run);
        commands.put("explain", new WireExplain(router, this::knows)::run);
    }

    /** Whether this router answers a command of that name. */
    boolean knows(String name) {
        return commands.containsKey(name);
    }

    /** Whether a command writes: its retryable failures carry {@code RetryableWriteError}. */
    static boolean isWrite(String command) {
        return WRITES.contains(command);
    }

    /** The role a command needs: writes need readWrite, administration admin, the rest read. */
    static WireUsers.Role requiredRole(String command) {
        if (WRITES.contains(command)) {
            return WireUsers.Role.READ_WRITE;
        }
        return ADMINISTRATION.contains(command) ? WireUsers.Role.ADMIN : WireUsers.Role.READ;
    }

    /** With users, every command but the handshake needs an authenticated user holding the command's role. */
    private void authorize(WireSession session, String name) {
        if (users.isEmpty() || BEFORE_AUTHENTICATION.contains(name)) {
            return;
        }
        WireUsers.User account = session.account();
        if (account == null) {
            throw new WireCommandException(WireError.UNAUTHORIZED, "command " + name + " requires authentication");
        }
        WireUsers.Role required = requiredRole(name);
        if (!account.allows(required)) {
            throw new WireCommandException(WireError.UNAUTHORIZED, "not authorized: user " + account.name() + " has roles "
                + account.roles().stream().map(WireUsers.Role::label).toList() + "; command " + name + " needs " + required.label());
        }
    }

    Document run(WireSession session, WireMessage message) {
        String name = message.commandName();
        Document body = message.command();
        if (WireTransactions.inTransaction(name, body)) {
            authorize(session, name);
            Document key = body.get("lsid") instanceof Document lsid ? (session.user() == null ? lsid : new Document(lsid).append("user", session.user())) : null;
            return transactions.run(session, message, key);
        }
        BiFunction<WireSession, WireMessage, Document> command = commands.get(name);
        if (command == null) {
            throw new WireCommandException(WireError.COMMAND_NOT_FOUND, "no such command: '" + name + "'");
        }
        authorize(session, name);
        if (isWrite(name) && body.get("lsid") instanceof Document lsid && body.containsKey("txnNumber")) {
            long txnNumber = new CommandFields(name, body).integer("txnNumber", 0);
            Document key = session.user() == null ? lsid : new Document(lsid).append("user", session.user());
            return retryable.run(key, txnNumber, () -> command.apply(session, message));
        }
        return command.apply(session, message);
    }

    private Document endSessions(WireSession session, WireMessage message) {
        List<Document> ended = new CommandFields("endSessions", message.command()).documents("endSessions");
        List<Document> keys = session.user() == null ? ended : ended.stream().map(lsid -> new Document(lsid).append("user", session.user())).toList();
        retryable.end(keys);
        transactions.endSessions(keys);
        return ok();
    }

    private static Document ok() {
        return new Document("ok", 1.0);
    }

    private Document hello(WireSession session, WireMessage message) {
        Document reply = new Document();
        if (message.commandName().equals("hello")) {
            reply.append("isWritablePrimary", true);
        } else {
            reply.append("ismaster", true);
        }
        if (Boolean.TRUE.equals(message.command().get("helloOk"))) {
            reply.append("helloOk", true);
        }
        if (message.command().get("saslSupportedMechs") instanceof String user && user.startsWith("admin.")
            && users.user(user.substring("admin.".length())).isPresent()) {
            reply.append("saslSupportedMechs", List.of(WireAuthentication.MECHANISM));
        }
        return reply.append("msg", "isdbgrid")
            .append("maxBsonObjectSize", WireCodec.MAX_DOCUMENT_BYTES)
            .append("maxMessageSizeBytes", WireCodec.MAX_MESSAGE_BYTES)
            .append("maxWriteBatchSize", MAX_WRITE_BATCH_SIZE)
            .append("localTime", new Date())
            .append("logicalSessionTimeoutMinutes", LOGICAL_SESSION_TIMEOUT_MINUTES)
            .append("connectionId", session.connectionId())
            .append("minWireVersion", 0)
            .append("maxWireVersion", MAX_WIRE_VERSION)
            .append("readOnly", false)
            .append("ok", 1.0);
    }

    private static Document buildInfo() {
        return new Document("version", "7.0.0").append("versionArray", List.of(7, 0, 0, 0))
            .append("gitVersion", "shardline-" + WireServerStats.version())
            .append("bits", 64).append("maxBsonObjectSize", WireCodec.MAX_DOCUMENT_BYTES)
            .append("ok", 1.0);
    }

    private Document serverStatus() {
        long uptime = ManagementFactory.getRuntimeMXBean().getUptime();
        return new Document("host", stats.host()).append("version", "7.0.0").append("process", "mongos")
            .append("pid", ProcessHandle.current().pid()).append("uptime", uptime / 1000.0).append("uptimeMillis", uptime)
            .append("localTime", new Date())
            .append("connections", new Document("current", stats.currentConnections()).append("totalCreated", stats.totalConnections()))
            .append("shardline", new Document("routerId", router.routerId()).append("routingVersion", router.routingVersion())
                .append("leaseValid", router.leaseValid()).append("openCursors", cursors.size()))
            .append("ok", 1.0);
    }

    private Document connectionStatus(WireSession session, WireMessage message) {
        WireUsers.User account = session.account();
        List<Document> authenticated = account == null ? List.of() : List.of(new Document("user", account.name()).append("db", "admin"));
        List<Document> roles = account == null ? List.of()
            : account.roles().stream().map(role -> new Document("role", role.label()).append("db", "admin")).toList();
        return new Document("authInfo", new Document("authenticatedUsers", authenticated).append("authenticatedUserRoles", roles))
            .append("ok", 1.0);
    }

    private Document listDatabases(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("listDatabases", message.command());
        Document filter = fields.document("filter", new Document());
        boolean nameOnly = fields.bool("nameOnly", false);
        Set<String> databases = new LinkedHashSet<>();
        router.namespaces().forEach(namespace -> databases.add(namespace.substring(0, namespace.indexOf('.'))));
        List<Document> listed = new ArrayList<>();
        for (String database : databases) {
            Document entry = new Document("name", database);
            if (!nameOnly) {
                entry.append("empty", false);
            }
            if (SimpleMatcher.matches(entry, filter)) {
                listed.add(entry);
            }
        }
        return new Document("databases", listed).append("ok", 1.0);
    }

    private Document listCollections(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("listCollections", message.command());
        Document filter = fields.document("filter", new Document());
        boolean nameOnly = fields.bool("nameOnly", false);
        int batchSize = fields.document("cursor", new Document()).containsKey("batchSize")
            ? new CommandFields("listCollections.cursor", fields.document("cursor")).nonNegativeInt("batchSize", 0) : 0;
        String prefix = message.database() + ".";
        List<Document> listed = new ArrayList<>();
        for (String namespace : router.namespaces()) {
            if (namespace.startsWith(prefix)) {
                Document entry = new Document("name", namespace.substring(prefix.length())).append("type", "collection");
                if (!nameOnly) {
                    entry.append("options", new Document()).append("info", new Document("readOnly", false));
                }
                if (SimpleMatcher.matches(entry, filter)) {
                    listed.add(entry);
                }
            }
        }
        return firstBatch(session, message.database() + ".$cmd.listCollections", new ListCursor(listed, List.of(), List.of()),
            batchSize, false);
    }

    private Document find(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("find", message.command());
        String namespace = message.database() + "." + fields.string("find");
        fields.refuse("collation", "collations are not supported by the router (it merges in simple binary order)");
        fields.refuse("min", "index bounds are not supported by the router");
        fields.refuse("max", "index bounds are not supported by the router");
        fields.refuse("tailable", "tailable cursors are not supported by the router");
        fields.refuse("returnKey", "returnKey is not supported by the router");
        fields.refuse("showRecordId", "showRecordId is not supported by the router");
        fields.refuse("let", "let variables are not supported by the router");
        long limit = fields.integer("limit", 0);
        boolean singleBatch = fields.bool("singleBatch", false) || limit < 0;
        int batchSize = fields.nonNegativeInt("batchSize", DEFAULT_FIRST_BATCH);
        FindRequest request = new FindRequest(fields.document("filter"), fields.document("sort"),
            fields.nonNegativeInt("skip", 0), (int) Math.min(Math.abs(limit), Integer.MAX_VALUE), fields.document("projection"),
            fields.bool("allowPartialResults", false));
        QueryCursor cursor = router.open(session.scope(), namespace, request, shardBatchSize(batchSize, singleBatch, request.limit()));
        if (batchSize == 0 && !singleBatch) {
            return emptyFirstBatch(session, namespace, cursor);
        }
        return firstBatch(session, namespace, cursor, batchSize, singleBatch);
    }

    /** What each shard is asked for per batch: enough for the client's batch, all of it for a single batch. */
    private static int shardBatchSize(int batchSize, boolean singleBatch, int limit) {
        if (singleBatch) {
            return limit;
        }
        return batchSize;
    }

    /** A {@code batchSize} of 0 asks, as on MongoDB, for a cursor and no documents yet: they come with the first getMore. */
    private Document emptyFirstBatch(WireSession session, String namespace, QueryCursor cursor) {
        long id = cursors.register(namespace, session.user(), new WireCursors.Source(cursor));
        return WireCursors.reply("firstBatch", List.of(), id, namespace);
    }

    private Document firstBatch(WireSession session, String namespace, QueryCursor cursor, int batchSize, boolean singleBatch) {
        WireCursors.Source source = new WireCursors.Source(cursor);
        WireCursors.Batch batch;
        try {
            batch = WireCursors.next(source, batchSize);
        } catch (RuntimeException e) {
            cursor.close();
            throw e;
        }
        long id = 0;
        if (batch.exhausted() || singleBatch) {
            cursor.close();
        } else {
            id = cursors.register(namespace, session.user(), source);
        }
        return partial(WireCursors.reply("firstBatch", batch.documents(), id, namespace), cursor);
    }

    /** As mongos answers a find with {@code allowPartialResults} that left shards out: {@code cursor.partialResultsReturned}. */
    private static Document partial(Document reply, QueryCursor cursor) {
        if (!cursor.missingShards().isEmpty()) {
            reply.get("cursor", Document.class).append("partialResultsReturned", true);
        }
        return reply;
    }

    private Document getMore(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("getMore", message.command());
        long id = fields.integer("getMore", 0);
        String namespace = message.database() + "." + fields.string("collection");
        int batchSize = fields.nonNegativeInt("batchSize", 0);
        WireCursors.Open open = cursors.acquire(id, namespace, session.user());
        boolean exhausted = true;
        try {
            WireCursors.Batch batch = WireCursors.next(open.source, batchSize);
            open.source.cursor().checkRanges();
            exhausted = batch.exhausted();
            List<RawBsonDocument> documents = batch.documents();
            return partial(WireCursors.reply("nextBatch", documents, exhausted ? 0 : id, namespace), open.source.cursor());
        } finally {
            cursors.release(open, exhausted);
        }
    }

    private Document killCursors(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("killCursors", message.command());
        String namespace = message.database() + "." + fields.string("killCursors");
        Object listed = message.command().get("cursors");
        if (!(listed instanceof List<?> values)) {
            throw new WireCommandException(WireError.TYPE_MISMATCH, "killCursors.cursors must be an array of cursor ids");
        }
        List<Long> ids = new ArrayList<>();
        for (Object value : values) {
            if (!(value instanceof Long || value instanceof Integer)) {
                throw new WireCommandException(WireError.TYPE_MISMATCH, "killCursors.cursors must hold cursor ids (integers), found " + value);
            }
            ids.add(((Number) value).longValue());
        }
        List<Long> killed = cursors.kill(ids, namespace, session.user());
        List<Long> notFound = ids.stream().filter(id -> !killed.contains(id)).toList();
        return new Document("cursorsKilled", killed).append("cursorsNotFound", notFound).append("cursorsAlive", List.of())
            .append("cursorsUnknown", List.of()).append("ok", 1.0);
    }

    private Document count(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("count", message.command());
        String namespace = message.database() + "." + fields.string("count");
        fields.refuse("collation", "collations are not supported by the router");
        long skip = fields.integer("skip", 0);
        long limit = Math.abs(fields.integer("limit", 0));
        if (skip < 0) {
            throw new WireCommandException(WireError.BAD_VALUE, "count.skip must be >= 0, was " + skip);
        }
        long total = router.count(session.scope(), namespace, fields.document("query"), false);
        long n = Math.max(0, total - skip);
        return new Document("n", int32(limit == 0 ? n : Math.min(n, limit))).append("ok", 1.0);
    }

    private Document distinct(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("distinct", message.command());
        String namespace = message.database() + "." + fields.string("distinct");
        fields.refuse("collation", "collations are not supported by the router");
        List<Object> values = router.distinct(session.scope(), namespace, fields.string("key"), fields.document("query"));
        return new Document("values", values).append("ok", 1.0);
    }

    private Document aggregate(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("aggregate", message.command());
        if (!(message.command().get("aggregate") instanceof String)) {
            throw new WireCommandException(WireError.COMMAND_NOT_SUPPORTED,
                "aggregate: database-level aggregations ({aggregate: 1}) are not supported by the router; name a collection");
        }
        String namespace = message.database() + "." + fields.string("aggregate");
        fields.refuse("collation", "collations are not supported by the router");
        fields.refuse("let", "let variables are not supported by the router");
        fields.refuse("explain", "explain of an aggregation is not supported by the router");
        Document cursorOptions = fields.document("cursor");
        if (cursorOptions == null) {
            throw new WireCommandException(WireError.FAILED_TO_PARSE,
                "aggregate: the 'cursor' option is required, except for aggregate with the explain argument");
        }
        int batchSize = new CommandFields("aggregate.cursor", cursorOptions).nonNegativeInt("batchSize", DEFAULT_FIRST_BATCH);
        FindResult result = router.aggregate(session.scope(), namespace, fields.documents("pipeline"), false);
        QueryCursor cursor = new ListCursor(result.documents(), result.shards(), result.missingShards());
        if (batchSize == 0) {
            return emptyFirstBatch(session, namespace, cursor);
        }
        return firstBatch(session, namespace, cursor, batchSize, false);
    }

    private Document insert(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("insert", message.command());
        String namespace = message.database() + "." + fields.string("insert");
        List<Document> documents = statements(fields, "documents");
        InsertOutcome outcome = router.insertStatements(WireWriteConcern.scope(session, message.command()), namespace, documents, fields.bool("ordered", true));
        Document reply = new Document("n", int32(outcome.inserted()));
        List<Document> writeErrors = outcome.errors().stream()
            .map(error -> WireError.of(error.error(), true).toWriteError(error.index())).toList();
        return withWriteErrors(reply, writeErrors);
    }

    private Document update(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("update", message.command());
        String namespace = message.database() + "." + fields.string("update");
        long[] counts = new long[2]; // n, nModified
        List<Document> upserted = new ArrayList<>();
        List<Document> writeErrors = eachStatement("update.updates", statements(fields, "updates"), fields.bool("ordered", true),
            (i, statement) -> {
                statement.refuse("collation", "collations are not supported by the router");
                if (statement.raw().get("arrayFilters") instanceof List<?> filters && !filters.isEmpty()) {
                    throw new WireCommandException(WireError.INVALID_OPTIONS, "update.updates." + i + ".arrayFilters: not supported by the router");
                }
                if (statement.raw().get("u") instanceof List<?>) {
                    throw new WireCommandException(WireError.INVALID_OPTIONS,
                        "update.updates." + i + ".u: update pipelines are not supported by the router; use update operators");
                }
                Document u = statement.document("u");
                if (u == null) {
                    throw new WireCommandException(WireError.FAILED_TO_PARSE, "update.updates." + i + ".u: an update document is required");
                }
                WriteResult result = router.update(WireWriteConcern.scope(session, message.command()), namespace, statement.document("q", new Document()), u,
                    statement.bool("multi", false), statement.bool("upsert", false));
                counts[0] += result.matched() + result.upsertedIds().size();
                counts[1] += result.modified();
                for (Object id : result.upsertedIds()) {
                    upserted.add(new Document("index", i).append("_id", id));
                }
            });
        Document reply = new Document("n", int32(counts[0])).append("nModified", int32(counts[1]));
        if (!upserted.isEmpty()) {
            reply.append("upserted", upserted);
        }
        return withWriteErrors(reply, writeErrors);
    }

    private Document delete(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("delete", message.command());
        String namespace = message.database() + "." + fields.string("delete");
        long[] n = new long[1];
        List<Document> writeErrors = eachStatement("delete.deletes", statements(fields, "deletes"), fields.bool("ordered", true),
            (i, statement) -> {
                statement.refuse("collation", "collations are not supported by the router");
                long limit = statement.integer("limit", -1);
                if (limit != 0 && limit != 1) {
                    throw new WireCommandException(WireError.FAILED_TO_PARSE, "delete.deletes." + i + ".limit must be 0 (all) or 1, was " + limit);
                }
                n[0] += router.delete(WireWriteConcern.scope(session, message.command()), namespace, statement.document("q", new Document()), limit == 0).deleted();
            });
        return withWriteErrors(new Document("n", int32(n[0])), writeErrors);
    }

    /** One statement of an update or delete. */
    private interface StatementRun {
        void run(int index, CommandFields statement);
    }

    /**
     * Runs a write's statements in order, each on its own as mongos does; a failed statement becomes a write error with
     * its index, and an ordered write stops there. A first statement refused because a shard it needs is DOWN, when no
     * other statement runs after it (the write is ordered, or has no other), fails the whole command instead: nothing
     * of it ran, and the command's error carries {@code RetryableWriteError}, so a driver retries it.
     */
    private static List<Document> eachStatement(String field, List<Document> statements, boolean ordered, StatementRun run) {
        List<Document> writeErrors = new ArrayList<>();
        for (int i = 0; i < statements.size(); i++) {
            try {
                run.run(i, new CommandFields(field + "." + i, statements.get(i)));
            } catch (RuntimeException e) {
                if (i == 0 && (ordered || statements.size() == 1) && e instanceof RouterException refused
                    && refused.kind() == RouterException.Kind.SHARD_DOWN) {
                    throw refused;
                }
                writeErrors.add(WireError.of(e, true).toWriteError(i));
                if (ordered) {
                    break;
                }
            }
        }
        return writeErrors;
    }

    private static List<Document> statements(CommandFields fields, String field) {
        List<Document> statements = fields.documents(field);
        if (statements.isEmpty()) {
            throw new WireCommandException(WireError.INVALID_OPTIONS, field + ": a write needs at least one statement");
        }
        if (statements.size() > MAX_WRITE_BATCH_SIZE) {
            throw new WireCommandException(WireError.INVALID_OPTIONS, field + ": " + statements.size()
                + " statements is more than maxWriteBatchSize " + MAX_WRITE_BATCH_SIZE);
        }
        return statements;
    }

    /** A count as MongoDB answers it: a 32-bit integer while it fits one. */
    private static Object int32(long count) {
        if (count <= Integer.MAX_VALUE) {
            return (int) count;
        }
        return count;
    }

    private static Document withWriteErrors(Document reply, List<Document> writeErrors) {
        if (!writeErrors.isEmpty()) {
            reply.append("writeErrors", writeErrors);
        }
        return reply.append("ok", 1.0);
    }
}
