package io.shardline.router.wire;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

import org.bson.Document;
import org.bson.types.ObjectId;

import io.shardline.router.api.FindAndModifyRequest;
import io.shardline.router.api.FindAndModifyResult;
import io.shardline.router.api.Transaction;
import io.shardline.router.internal.DocumentOrder;
import io.shardline.router.internal.Projections;
import io.shardline.router.internal.UpdateRules;

/**
 * The statements a driver sends inside a transaction, run on the session's {@link Transaction}: what ODMs such as
 * Mongoose send between {@code startTransaction} and the commit.
 * <ul>
 *   <li>{@code find}: filter, sort, skip, limit and projection;</li>
 *   <li>{@code count}, and the {@code aggregate} a driver's {@code countDocuments} sends ({@code $match}, then
 *       {@code $sort}, {@code $skip} or {@code $limit}, ending in {@code $count} or a {@code $group} of every document
 *       summing 1);</li>
 *   <li>{@code insert}, {@code update} (an upsert included) and {@code delete};</li>
 *   <li>{@code findAndModify} ({@code findOneAndUpdate}, {@code findOneAndReplace}, {@code findOneAndDelete}).</li>
 * </ul>
 * Each holds what it matched until the transaction ends: a {@code findAndModify} every match of its query (it reads
 * them to pick the first in its sort), an upsert the document it inserts. Any other command is refused with
 * {@code OperationNotSupportedInTransaction}.
 */
final class WireTransactionStatements {

    static final int OPERATION_NOT_SUPPORTED_IN_TRANSACTION = 263;
    static final Set<String> NAMES = Set.of("find", "insert", "update", "delete", "findAndModify", "findandmodify", "count", "aggregate");

    private WireTransactionStatements() {
    }

    static Document run(Transaction tx, WireMessage message, CommandFields fields) {
        String name = message.commandName();
        String namespace = message.database() + "." + fields.string(name);
        return switch (name) {
            case "find" -> {
                UnaryOperator<Document> projection = Projections.atRouter(fields.document("projection", null));
                List<Document> page = page(tx, namespace, fields.document("filter", new Document()), fields.document("sort", new Document()),
                    fields.nonNegativeInt("skip", 0), Math.abs(fields.integer("limit", 0)));
                yield new Document("cursor", new Document("firstBatch", page.stream().map(projection).toList()).append("id", 0L)
                    .append("ns", namespace)).append("ok", 1.0);
            }
            case "count" -> new Document("n", page(tx, namespace, fields.document("query", new Document()), new Document(),
                fields.nonNegativeInt("skip", 0), Math.abs(fields.integer("limit", 0))).size()).append("ok", 1.0);
            case "aggregate" -> aggregateCount(tx, namespace, message.command());
            case "insert" -> {
                List<Document> documents = fields.documents("documents");
                tx.insert(namespace, documents);
                yield new Document("n", documents.size()).append("ok", 1.0);
            }
            case "update" -> update(tx, namespace, fields);
            case "delete" -> {
                long n = 0;
                List<Document> deletes = fields.documents("deletes");
                for (int i = 0; i < deletes.size(); i++) {
                    CommandFields statement = new CommandFields("delete.deletes." + i, deletes.get(i));
                    n += tx.delete(namespace, statement.document("q", new Document()), statement.integer("limit", 0) == 0);
                }
                yield new Document("n", n).append("ok", 1.0);
            }
            default -> findAndModify(tx, namespace, name, fields, message.command());
        };
    }

    /** The documents matching {@code filter}, as the transaction sees them, in {@code sort} order, skipped and limited. */
    private static List<Document> page(Transaction tx, String namespace, Document filter, Document sort, int skip, long limit) {
        List<Document> found = new ArrayList<>(tx.find(namespace, filter));
        if (!sort.isEmpty()) {
            found.sort(new DocumentOrder(sort));
        }
        return found.stream().skip(skip).limit(limit == 0 ? Long.MAX_VALUE : limit).toList();
    }

    private static Document update(Transaction tx, String namespace, CommandFields fields) {
        long matched = 0;
        List<Document> upserted = new ArrayList<>();
        List<Document> updates = fields.documents("updates");
        for (int i = 0; i < updates.size(); i++) {
            CommandFields statement = new CommandFields("update.updates." + i, updates.get(i));
            Document u = statement.document("u");
            if (u == null) {
                throw new WireCommandException(WireError.FAILED_TO_PARSE, "update.updates." + i + ".u: an update document is required");
            }
            Document q = statement.document("q", new Document());
            long n = tx.update(namespace, q, u, statement.bool("multi", false));
            if (n == 0 && statement.bool("upsert", false)) {
                upserted.add(new Document("index", i).append("_id", upsert(tx, namespace, q, u)));
            }
            matched += n;
        }
        Document reply = new Document("n", matched + upserted.size()).append("nModified", matched);
        if (!upserted.isEmpty()) {
            reply.append("upserted", upserted);
        }
        return reply.append("ok", 1.0);
    }

    /**
     * The insert of an upsert that matched nothing, as MongoDB makes it: a replacement with the filter's {@code _id}
     * (or its own, or a new one); else the steps of {@link #upsertSteps}. Answers the new document's {@code _id}.
     */
    private static Object upsert(Transaction tx, String namespace, Document filter, Document update) {
        Document equalities = UpdateRules.equalities(filter);
        boolean replacement = update.keySet().stream().noneMatch(key -> key.startsWith("$"));
        Object id = equalities.containsKey("_id") ? equalities.get("_id") : replacement && update.containsKey("_id") ? update.get("_id") : new ObjectId();
        if (replacement) {
            Document inserted = new Document("_id", id);
            update.forEach((field, value) -> {
                if (!field.equals("_id")) {
                    inserted.put(field, value);
                }
            });
            tx.insert(namespace, List.of(inserted));
            return id;
        }
        UpsertSteps steps = upsertSteps(id, equalities, update);
        tx.insert(namespace, List.of(steps.insert()));
        if (!steps.then().isEmpty()) {
            tx.update(namespace, new Document("_id", id), steps.then(), false);
        }
        return id;
    }

    /** An upsert by operators in two steps: the document inserted, then the operators applied to it by the shard. */
    record UpsertSteps(Document insert, Document then) {
    }

    /**
     * The two steps of an upsert by operators: the filter's equalities with {@code $setOnInsert}'s values over them are
     * inserted; then the shard applies the other operators as it applies any update, judging them (conflicting paths, a
     * field created inside a value that is not a document). A path {@code $setOnInsert} shares with another operator is
     * refused as MongoDB refuses it, 40 {@code ConflictingUpdateOperators}; a value of it or of an equality under a
     * value that is no document, 28 {@code PathNotViable}.
     */
    static UpsertSteps upsertSteps(Object id, Document equalities, Document update) {
        Document inserted = new Document("_id", id);
        equalities.forEach((path, value) -> place(inserted, path, value, false));
        Document operators = new Document(update);
        Object onInsert = operators.remove("$setOnInsert");
        if (onInsert != null && !(onInsert instanceof Document)) {
            throw new WireCommandException(WireError.FAILED_TO_PARSE, "Modifiers operate on fields but we found type "
                + onInsert.getClass().getSimpleName() + " instead. For example: {$mod: {<field>: ...}} not {$setOnInsert: " + onInsert + "}");
        }
        if (onInsert instanceof Document values) {
            List<String> others = paths(operators);
            for (String path : values.keySet()) {
                for (String other : others) {
                    if (path.equals(other) || path.startsWith(other + ".") || other.startsWith(path + ".")) {
                        throw new WireCommandException(WireError.CONFLICTING_UPDATE_OPERATORS,
                            "Updating the path '" + path + "' would create a conflict at '" + (path.length() <= other.length() ? path : other) + "'");
                    }
                }
                place(inserted, path, values.get(path), true);
            }
        }
        inserted.put("_id", id);
        return new UpsertSteps(inserted, operators);
    }

    /** The paths the operators of an update name: each operator's fields, and where {@code $rename} moves them to. */
    private static List<String> paths(Document operators) {
        List<String> paths = new ArrayList<>();
        operators.forEach((operator, operand) -> {
            if (operand instanceof Document fields) {
                paths.addAll(fields.keySet());
                if (operator.equals("$rename")) {
                    fields.values().stream().filter(String.class::isInstance).map(String.class::cast).forEach(paths::add);
                }
            }
        });
        return paths;
    }

    /**
     * Sets a dotted path in {@code document}, making the documents on the way; {@code override} replaces a value at its
     * end. A value on the way that is no document is refused, as MongoDB refuses creating a field inside it.
     */
    private static void place(Document document, String path, Object value, boolean override) {
        String[] parts = path.split("\\.");
        Document at = document;
        for (int i = 0; i < parts.length - 1; i++) {
            Object there = at.get(parts[i]);
            if (there != null && !(there instanceof Document)) {
                throw new WireCommandException(WireError.PATH_NOT_VIABLE, "Cannot create field '" + parts[i + 1] + "' in element {"
                    + parts[i] + ": " + there + "}");
            }
            Document nested = there instanceof Document existing ? existing : new Document();
            at.put(parts[i], nested);
            at = nested;
        }
        if (override) {
            at.put(parts[parts.length - 1], value);
        } else {
            at.putIfAbsent(parts[parts.length - 1], value);
        }
    }

    private static Document findAndModify(Transaction tx, String namespace, String command, CommandFields fields, Document body) {
        WireFindAndModify.refuseUnsupported(command, fields, body);
        FindAndModifyRequest request = WireFindAndModify.request(command, fields);
        UnaryOperator<Document> projection = Projections.atRouter(request.fields());
        List<Document> matches = page(tx, namespace, request.filter(), request.sort() == null ? new Document() : request.sort(), 0, 1);
        if (matches.isEmpty()) {
            if (!request.upsert()) {
                return WireFindAndModify.reply(FindAndModifyResult.none(List.of()), request.remove());
            }
            Object id = upsert(tx, namespace, request.filter(), request.update());
            Document value = request.returnNew() ? projection.apply(tx.find(namespace, new Document("_id", id)).get(0)) : null;
            return WireFindAndModify.reply(new FindAndModifyResult(value, 1, false, id, List.of()), false);
        }
        Document first = matches.get(0);
        // Pinned to the first match, the query kept: a positional $ in the update needs its match on the document.
        Document byId = new Document("$and", List.of(request.filter(), new Document("_id", first.get("_id"))));
        if (request.remove()) {
            tx.delete(namespace, byId, false);
            return WireFindAndModify.reply(new FindAndModifyResult(projection.apply(first), 1, false, null, List.of()), true);
        }
        tx.update(namespace, byId, request.update(), false);
        Document value = request.returnNew() ? tx.find(namespace, new Document("_id", first.get("_id"))).get(0) : first;
        return WireFindAndModify.reply(new FindAndModifyResult(projection.apply(value), 1, true, null, List.of()), false);
    }

    /** The {@code aggregate} that counts (what {@code countDocuments} sends); any other pipeline is refused. */
    private static Document aggregateCount(Transaction tx, String namespace, Document body) {
        if (!(body.get("pipeline") instanceof List<?> stages)) {
            throw new WireCommandException(WireError.FAILED_TO_PARSE, "aggregate.pipeline: an array of stages is required");
        }
        Document filter = new Document();
        Document sort = new Document();
        int skip = 0;
        long limit = 0;
        String countField = null;
        boolean countStage = false;
        Object groupId = null;
        for (int i = 0; i < stages.size(); i++) {
            String where = "aggregate.pipeline." + i;
            if (!(stages.get(i) instanceof Document stage) || stage.size() != 1) {
                throw new WireCommandException(WireError.FAILED_TO_PARSE, where + ": a stage is a document of one field");
            }
            String kind = stage.keySet().iterator().next();
            Object spec = stage.get(kind);
            boolean last = i == stages.size() - 1;
            if (kind.equals("$match") && i == 0 && spec instanceof Document match) {
                filter = match;
            } else if (kind.equals("$sort") && spec instanceof Document order && !last) {
                sort = order;
            } else if (kind.equals("$skip") && spec instanceof Number n && !last && limit == 0) {
                skip += n.intValue();
            } else if (kind.equals("$limit") && spec instanceof Number n && !last) {
                limit = limit == 0 ? n.longValue() : Math.min(limit, n.longValue());
            } else if (kind.equals("$count") && spec instanceof String name && last) {
                countField = name;
                countStage = true;
            } else if (kind.equals("$group") && spec instanceof Document group && last && countsAll(group)) {
                groupId = group.get("_id");
                countField = group.keySet().stream().filter(key -> !key.equals("_id")).findFirst().orElseThrow();
            } else {
                throw new WireCommandException(OPERATION_NOT_SUPPORTED_IN_TRANSACTION, where + ": " + kind + " here is not supported in a "
                    + "transaction by the router; a transaction's aggregate counts ($match, $sort, $skip, $limit, then $count or a $group "
                    + "of every document summing 1)");
            }
        }
        if (countField == null) {
            throw new WireCommandException(OPERATION_NOT_SUPPORTED_IN_TRANSACTION, "aggregate.pipeline: a transaction's aggregate ends in $count "
                + "or a $group of every document summing 1");
        }
        int count = page(tx, namespace, filter, sort, skip, limit).size();
        List<Document> batch = new ArrayList<>();
        if (count > 0) {
            batch.add(countStage ? new Document(countField, count) : new Document("_id", groupId).append(countField, count));
        }
        return new Document("cursor", new Document("firstBatch", batch).append("id", 0L).append("ns", namespace)).append("ok", 1.0);
    }

    /** A {@code $group} of every document into one (a constant {@code _id}) with one field summing 1. */
    private static boolean countsAll(Document group) {
        Object id = group.get("_id");
        boolean constant = group.containsKey("_id") && !(id instanceof String s && s.startsWith("$")) && !(id instanceof Document);
        return constant && group.size() == 2 && group.entrySet().stream().filter(entry -> !entry.getKey().equals("_id"))
            .allMatch(entry -> entry.getValue() instanceof Document sum && sum.size() == 1 && sum.get("$sum") instanceof Number one
                && one.intValue() == 1 && one.doubleValue() == 1.0);
    }
}
