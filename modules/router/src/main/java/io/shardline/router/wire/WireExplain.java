package io.shardline.router.wire;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import org.bson.Document;

import io.shardline.router.ShardRouter;
import io.shardline.router.api.Explain;

/**
 * {@code explain} of a {@code find}, {@code count}, {@code distinct} or {@code aggregate}: which shards and chunks the
 * command targets and why ({@link ShardRouter#explain}), in the shape of mongos' query planner
 * ({@code queryPlanner.winningPlan} with its stage and shards) and with Shardline's own account (key ranges, chunks,
 * the reason, the routing version). The router explains without running the command, so only the
 * {@code queryPlanner} verbosity is answered (also when none is named).
 */
final class WireExplain {

    static final String QUERY_PLANNER = "queryPlanner";
    private static final List<String> VERBOSITIES = List.of(QUERY_PLANNER, "executionStats", "allPlansExecution");
    private static final List<String> EXPLAINED = List.of("find", "count", "distinct", "aggregate");

    private final ShardRouter router;
    private final Predicate<String> known;

    /** @param known whether the wire router runs a command of that name (one it cannot explain is told apart from an unknown one) */
    WireExplain(ShardRouter router, Predicate<String> known) {
        this.router = router;
        this.known = known;
    }

    Document run(WireSession session, WireMessage message) {
        CommandFields fields = new CommandFields("explain", message.command());
        Document explained = fields.document("explain");
        if (explained == null || explained.isEmpty()) {
            throw new WireCommandException(WireError.TYPE_MISMATCH, "explain.explain must be the command to explain, was "
                + (explained == null ? "missing" : "empty"));
        }
        verbosity(message.command().get("verbosity"));
        String name = explained.keySet().iterator().next();
        CommandFields inner = new CommandFields(name, explained);
        if (!EXPLAINED.contains(name)) {
            if (known.test(name)) {
                throw new WireCommandException(WireError.ILLEGAL_OPERATION, "Cannot explain cmd: " + name + " (the router explains "
                    + String.join(", ", EXPLAINED) + ")");
            }
            throw new WireCommandException(WireError.COMMAND_NOT_FOUND, "Explain failed due to unknown command: " + name);
        }
        if (name.equals("aggregate") && !(explained.get("aggregate") instanceof String)) {
            throw new WireCommandException(WireError.COMMAND_NOT_SUPPORTED,
                "aggregate: database-level aggregations ({aggregate: 1}) are not supported by the router; name a collection");
        }
        String namespace = message.database() + "." + inner.string(name);
        inner.refuse("collation", "collations are not supported by the router");
        Explain explain = switch (name) {
            case "find" -> router.explain(session.scope(), namespace, inner.document("filter", new Document()));
            case "aggregate" -> router.explainAggregate(session.scope(), namespace, inner.documents("pipeline"));
            default -> router.explain(session.scope(), namespace, inner.document("query", new Document()));
        };
        boolean sorted = name.equals("find") && !inner.document("sort", new Document()).isEmpty();
        return reply(explain, explained, sorted);
    }

    /** Refuses a verbosity the router cannot answer: it does not run the command, so it has no execution statistics. */
    static void verbosity(Object verbosity) {
        if (verbosity == null || QUERY_PLANNER.equals(verbosity)) {
            return;
        }
        if (!(verbosity instanceof String named) || !VERBOSITIES.contains(named)) {
            throw new WireCommandException(WireError.BAD_VALUE, "explain.verbosity must be one of " + VERBOSITIES + ", was " + verbosity);
        }
        throw new WireCommandException(WireError.INVALID_OPTIONS, "explain.verbosity: '" + named + "' is not supported by the router, "
            + "which explains which shards and chunks a command targets without running it; use '" + QUERY_PLANNER + "'");
    }

    /**
     * The explanation: mongos' {@code queryPlanner} ({@code SINGLE_SHARD} for one shard, {@code SHARD_MERGE} for several,
     * {@code SHARD_MERGE_SORT} for a sorted find on several, {@code EOF} for none) with each shard's chunks, and
     * Shardline's own account under {@code shardline}.
     */
    static Document reply(Explain explain, Document command, boolean sorted) {
        List<Document> shards = new ArrayList<>();
        explain.shardChunks().forEach((shard, chunks) -> shards.add(new Document("shardName", shard)
            .append("namespace", explain.namespace()).append("chunks", chunks)));
        Document plan = new Document("stage", stage(shards.size(), sorted)).append("shards", shards);
        Document planner = new Document("mongosPlannerVersion", 1).append("namespace", explain.namespace()).append("winningPlan", plan)
            .append("rejectedPlans", List.of());
        Document shardline = new Document("namespace", explain.namespace()).append("allShards", explain.allShards())
            .append("reason", explain.reason()).append("keyRanges", explain.keyRanges()).append("chunks", explain.chunks())
            .append("shards", explain.shards()).append("routingVersion", explain.routingVersion());
        return new Document("queryPlanner", planner).append("shardline", shardline).append("command", command).append("ok", 1.0);
    }

    private static String stage(int shards, boolean sorted) {
        if (shards == 0) {
            return "EOF";
        }
        if (shards == 1) {
            return "SINGLE_SHARD";
        }
        return sorted ? "SHARD_MERGE_SORT" : "SHARD_MERGE";
    }
}
