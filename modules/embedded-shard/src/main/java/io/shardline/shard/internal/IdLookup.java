package io.shardline.shard.internal;

import java.util.List;
import java.util.Optional;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.backend.DefaultQueryMatcher;
import de.bwaldvogel.mongo.bson.Document;
import io.netty.channel.Channel;

/**
 * A query planner step mongo-java-server lacks: it uses the {@code _id} index only for a filter that is exactly
 * {@code {_id: v}}. A conjunctive filter that pins {@code _id} among other conditions (a router's tenant and key
 * range around an application's {@code _id} lookup) would scan the whole collection; here it reads the one
 * candidate through the index, checks it against the whole filter, and lets mongo-java-server answer the find with
 * the filter narrowed to the {@code _id}. A filter that pins {@code _id} to a list ({@code $in}), as a migration's
 * replay and verification do, reads each candidate through the index the same way, as MongoDB does.
 */
final class IdLookup {

    private IdLookup() {
    }

    /** The {@code _id} a conjunctive filter requires by equality, if any. */
    static Optional<Object> pinnedId(Object filter) {
        if (!(filter instanceof Document document)) {
            return Optional.empty();
        }
        Object id = document.get("_id");
        if (id != null) {
            if (id instanceof Document operators && operators.keySet().stream().anyMatch(k -> k.startsWith("$"))) {
                if (operators.size() == 1 && operators.containsKey("$eq") && !(operators.get("$eq") instanceof Document)) {
                    return Optional.of(operators.get("$eq"));
                }
            } else if (!(id instanceof List<?>) && !(id instanceof de.bwaldvogel.mongo.bson.BsonRegularExpression)
                && !(id instanceof java.util.regex.Pattern)) {
                return Optional.of(id); // a regular expression matches many ids: it pins none
            }
        }
        if (document.get("$and") instanceof List<?> branches) {
            for (Object branch : branches) {
                Optional<Object> pinned = pinnedId(branch);
                if (pinned.isPresent()) {
                    return pinned;
                }
            }
        }
        return Optional.empty();
    }

    /** The {@code _id}s a conjunctive filter restricts to by {@code $in}, if any. */
    static Optional<List<?>> pinnedIdList(Object filter) {
        if (!(filter instanceof Document document)) {
            return Optional.empty();
        }
        if (document.get("_id") instanceof Document operators && operators.size() == 1 && operators.get("$in") instanceof List<?> ids
            && ids.stream().noneMatch(id -> id instanceof Document || id instanceof java.util.regex.Pattern
                || id instanceof de.bwaldvogel.mongo.bson.BsonRegularExpression)) {
            return Optional.of(ids);
        }
        if (document.get("$and") instanceof List<?> branches) {
            for (Object branch : branches) {
                Optional<List<?>> pinned = pinnedIdList(branch);
                if (pinned.isPresent()) {
                    return pinned;
                }
            }
        }
        return Optional.empty();
    }

    /**
     * The filter without the {@code _id $in} condition {@link #pinnedIdList} found: a candidate read by one of those
     * ids satisfies it already, and matching a list of n ids against each of n candidates would take n² comparisons.
     */
    static Document withoutIdList(Document filter) {
        Document copy = filter.clone();
        if (copy.get("_id") instanceof Document operators && operators.size() == 1 && operators.get("$in") instanceof List<?>) {
            copy.remove("_id");
            return copy;
        }
        if (copy.get("$and") instanceof List<?> branches) {
            List<Object> rest = new java.util.ArrayList<>();
            boolean removed = false;
            for (Object branch : branches) {
                if (!removed && branch instanceof Document document && pinnedIdList(document).isPresent()) {
                    removed = true;
                    Document stripped = withoutIdList(document);
                    if (!stripped.isEmpty()) {
                        rest.add(stripped);
                    }
                } else {
                    rest.add(branch);
                }
            }
            if (rest.isEmpty()) {
                copy.remove("$and");
            } else {
                copy.put("$and", rest);
            }
        }
        return copy;
    }

    /** Options of a find that change its answer beyond the filter: a find with any of them runs as it is. */
    private static final List<String> SHAPING = List.of("projection", "sort", "skip", "limit", "min", "max", "hint", "collation", "singleBatch");

    /**
     * Answers a {@code find} whose filter pins an {@code _id} but is not just {@code {_id: v}}; {@code null} when the
     * command does not qualify and should run as it is.
     */
    static Document find(ShardBackend backend, Channel channel, String databaseName, String command, Document query) {
        Document byList = findByIdList(backend, databaseName, command, query);
        if (byList != null) {
            return byList;
        }
        Object filter = query.get("filter");
        if (!(filter instanceof Document document) || document.size() == 1 && document.containsKey("_id")) {
            return null;
        }
        Optional<Object> id = pinnedId(document);
        if (id.isEmpty()) {
            return null;
        }
        String collectionName = String.valueOf(query.get(command));
        MongoCollection<?> collection = backend.collection(databaseName, collectionName);
        Document candidate = collection == null ? null : backend.findById(databaseName + "." + collectionName, id.get());
        if (candidate == null || !new DefaultQueryMatcher().matches(candidate, document)) {
            return emptyCursor(databaseName + "." + collectionName);
        }
        Document narrowed = query.clone();
        narrowed.put("filter", new Document("_id", id.get()));
        return backend.handleUnwrapped(channel, databaseName, command, narrowed);
    }

    /** A find by a list of ids (and maybe more conditions), answered from the index in one batch. */
    private static Document findByIdList(ShardBackend backend, String databaseName, String command, Document query) {
        Optional<List<?>> ids = pinnedIdList(query.get("filter"));
        if (ids.isEmpty() || SHAPING.stream().anyMatch(query::containsKey)) {
            return null;
        }
        Document filter = withoutIdList((Document) query.get("filter"));
        String namespace = databaseName + "." + query.get(command);
        DefaultQueryMatcher matcher = new DefaultQueryMatcher();
        List<Document> found = new java.util.ArrayList<>();
        for (Object id : new java.util.LinkedHashSet<>(ids.get())) {
            Document candidate = backend.findById(namespace, id);
            if (candidate != null && matcher.matches(candidate, filter)) {
                found.add(candidate);
            }
        }
        return new Document("cursor", new Document("firstBatch", found).append("id", 0L).append("ns", namespace)).append("ok", 1.0);
    }

    /**
     * Rewrites a {@code delete} whose statements pin {@code _id}s (by equality among other conditions, or by
     * {@code $in}) into one statement per matching document, each found through the index: mongo-java-server would
     * scan the collection for every such statement. {@code null} when no statement qualifies.
     */
    static Document rewriteDelete(ShardBackend backend, String databaseName, String command, Document query) {
        if (!(query.get("deletes") instanceof List<?> statements)) {
            return null;
        }
        String namespace = databaseName + "." + query.get(command);
        DefaultQueryMatcher matcher = new DefaultQueryMatcher();
        List<Document> rewritten = new java.util.ArrayList<>();
        boolean changed = false;
        for (Object item : statements) {
            if (!(item instanceof Document statement) || !(statement.get("q") instanceof Document filter)
                || statement.containsKey("collation") || statement.containsKey("hint")
                || filter.size() == 1 && filter.containsKey("_id") && !(filter.get("_id") instanceof Document)) {
                rewritten.add((Document) item);
                continue;
            }
            Optional<List<?>> many = pinnedIdList(filter);
            Optional<Object> one = many.isPresent() ? Optional.empty() : pinnedId(filter);
            if (many.isEmpty() && one.isEmpty()) {
                rewritten.add(statement);
                continue;
            }
            changed = true;
            boolean single = statement.get("limit") instanceof Number limit && limit.intValue() == 1;
            Document rest = many.isPresent() ? withoutIdList(filter) : filter;
            for (Object id : many.isPresent() ? new java.util.LinkedHashSet<>(many.get()) : List.of(one.get())) {
                Document candidate = backend.findById(namespace, id);
                if (candidate != null && matcher.matches(candidate, rest)) {
                    rewritten.add(new Document("q", new Document("_id", id)).append("limit", 1));
                    if (single) {
                        break;
                    }
                }
            }
        }
        if (!changed) {
            return null;
        }
        if (rewritten.isEmpty()) {
            // Nothing matches: one statement that finds nothing through the index keeps the command well-formed.
            rewritten.add(new Document("q", new Document("_id", new de.bwaldvogel.mongo.bson.ObjectId())).append("limit", 1));
        }
        Document copy = query.clone();
        copy.put("deletes", rewritten);
        return copy;
    }

    private static Document emptyCursor(String namespace) {
        return new Document("cursor", new Document("firstBatch", List.of()).append("id", 0L).append("ns", namespace))
            .append("ok", 1.0);
    }
}
