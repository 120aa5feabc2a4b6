package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bson.Document;

import io.shardline.router.api.RouterException;

/**
 * Projection pushdown for finds: what each shard is asked for and what the router trims from the merged documents,
 * so that a multi-shard find answers with the documents one MongoDB would return. The shards must return every sort
 * path the merge compares, whole, so a projection that names a sort path, a sub-path or a super-path of one is
 * widened on the shards and applied exactly at the router ({@link ProjectionTrim}).
 *
 * <p>Supported: inclusions and exclusions of paths (dotted, through arrays of documents), {@code _id} in either,
 * {@code $slice} on a top-level field (applied at the router, on the whole array the shards return) and
 * {@code $elemMatch} on a field that is no sort path. Refused with 400 naming the field: the positional {@code $},
 * {@code $slice} on a dotted path, {@code $elemMatch} on a sort path, {@code $meta}, expressions, nested projection
 * documents, a mix of inclusions and exclusions, and colliding paths.
 */
public final class Projections {

    /**
     * What the shards are asked for, and what the router does to each merged document before answering.
     *
     * @param intents whether a transaction's intent stays in the answer (for the transactions' own writes, never a client's)
     */
    public record Plan(Document forShards, ProjectionTrim trim, boolean intents) {

        Plan(Document forShards, ProjectionTrim trim) {
            this(forShards, trim, false);
        }

        /** Removes the stored shard key and any transaction's intent, and applies what the shards could not. */
        public Document finish(Document document) {
            document.remove(ShardKeyField.NAME);
            if (!intents) {
                document.remove(TxnIntents.FIELD);
            }
            return trim == null ? document : trim.apply(document);
        }
    }

    /** The whole stored document but its shard key, its intent included: what a transaction's own writes read back. */
    static Plan withIntents() {
        return new Plan(new Document(ShardKeyField.NAME, 0), null, true);
    }

    /** A projection taken apart: its kind of entry per path, in the caller's order. */
    private record Parsed(Boolean id, List<String> inclusions, List<String> exclusions, Map<String, Object> slices,
                          Map<String, Object> elemMatches) {

        /** As MongoDB decides: any inclusion, an {@code $elemMatch}, or {@code _id: 1} with nothing excluded. */
        boolean inclusion() {
            return !inclusions.isEmpty() || !elemMatches.isEmpty() || (Boolean.TRUE.equals(id) && exclusions.isEmpty());
        }
    }

    private Projections() {
    }

    /** Whether a projection selects fields (rather than removing them): it names a field other than {@code _id} with a true value. */
    public static boolean isInclusion(Document projection) {
        if (projection == null) {
            return false;
        }
        for (Map.Entry<String, Object> entry : projection.entrySet()) {
            if (entry.getKey().equals("_id")) {
                continue;
            }
            Object value = entry.getValue();
            if (value instanceof Number number) {
                return number.intValue() != 0;
            }
            if (value instanceof Boolean bool) {
                return bool;
            }
            return true; // expressions and $slice-like operators count as inclusion
        }
        return false;
    }

    /**
     * The plan for a find with {@code projection} whose results the router merges on {@code sortPaths}.
     *
     * @throws RouterException BAD_REQUEST naming the field of a projection the router cannot answer exactly
     */
    public static Plan plan(Document projection, Collection<String> sortPaths) {
        if (projection == null || projection.isEmpty()) {
            return new Plan(new Document(ShardKeyField.NAME, 0).append(TxnIntents.FIELD, 0), null);
        }
        Parsed parsed = parse(projection);
        return parsed.inclusion() ? inclusionPlan(projection, parsed, sortPaths) : exclusionPlan(projection, parsed, sortPaths);
    }

    /**
     * {@code projection} applied whole at the router, to documents it holds already (a transaction's own reads).
     *
     * @throws RouterException BAD_REQUEST naming the field of a projection it cannot apply: {@code $elemMatch}, and
     *                         what {@link #plan} refuses
     */
    public static java.util.function.UnaryOperator<Document> atRouter(Document projection) {
        if (projection == null || projection.isEmpty()) {
            return document -> document;
        }
        Parsed parsed = parse(projection);
        if (!parsed.elemMatches().isEmpty()) {
            throw refused(parsed.elemMatches().keySet().iterator().next(), "$elemMatch is not applied inside a transaction");
        }
        if (parsed.inclusion()) {
            return ProjectionTrim.inclusion(parsed.inclusions(), parsed.slices(), !Boolean.FALSE.equals(parsed.id()))::apply;
        }
        List<String> excluded = new ArrayList<>(parsed.exclusions());
        if (Boolean.FALSE.equals(parsed.id())) {
            excluded.add("_id");
        }
        return ProjectionTrim.exclusion(excluded, parsed.slices())::apply;
    }

    private static Plan inclusionPlan(Document projection, Parsed parsed, Collection<String> sortPaths) {
        boolean idExcluded = Boolean.FALSE.equals(parsed.id());
        boolean sendId = !idExcluded;
        List<String> added = new ArrayList<>();
        for (String sort : sortPaths) {
            if (covers("_id", sort)) {
                sendId = true;
                continue;
            }
            for (String matched : parsed.elemMatches().keySet()) {
                if (overlap(matched, sort)) {
                    throw refused(matched, "$elemMatch on '" + matched + "' cannot be combined with a sort on '" + sort
                        + "' across shards");
                }
            }
            boolean covered = parsed.inclusions().stream().anyMatch(path -> covers(path, sort))
                || parsed.slices().keySet().stream().anyMatch(path -> covers(path, sort))
                || added.stream().anyMatch(path -> covers(path, sort));
            if (!covered) {
                added.removeIf(path -> covers(sort, path));
                added.add(sort);
            }
        }
        Document shards = new Document();
        if (!sendId) {
            shards.put("_id", 0);
        }
        for (Map.Entry<String, Object> entry : projection.entrySet()) {
            String path = entry.getKey();
            if (path.equals("_id") ? !Boolean.TRUE.equals(parsed.id()) : added.stream().anyMatch(sort -> covers(sort, path))) {
                continue; // an excluded _id is decided above; a sub-path of a sort path comes with it
            }
            shards.put(path, parsed.slices().containsKey(path) ? 1 : entry.getValue());
        }
        added.forEach(path -> shards.put(path, 1));
        boolean trimmed = !added.isEmpty() || (idExcluded && sendId) || !parsed.slices().isEmpty();
        if (!trimmed) {
            return new Plan(shards, null);
        }
        List<String> kept = new ArrayList<>(parsed.inclusions());
        kept.addAll(parsed.elemMatches().keySet());
        return new Plan(shards, ProjectionTrim.inclusion(kept, parsed.slices(), !idExcluded));
    }

    private static Plan exclusionPlan(Document projection, Parsed parsed, Collection<String> sortPaths) {
        Document shards = new Document();
        List<String> atRouter = new ArrayList<>();
        for (Map.Entry<String, Object> entry : projection.entrySet()) {
            String path = entry.getKey();
            if (parsed.slices().containsKey(path)) {
                continue; // sliced at the router, from the whole array
            }
            if (sortPaths.stream().anyMatch(sort -> overlap(path, sort))) {
                atRouter.add(path); // the merge compares it: the shards return it, the router removes it
            } else {
                shards.put(path, entry.getValue());
            }
        }
        shards.put(ShardKeyField.NAME, 0);
        shards.put(TxnIntents.FIELD, 0);
        if (atRouter.isEmpty() && parsed.slices().isEmpty()) {
            return new Plan(shards, null);
        }
        return new Plan(shards, ProjectionTrim.exclusion(atRouter, parsed.slices()));
    }

    private static Parsed parse(Document projection) {
        Boolean id = null;
        List<String> inclusions = new ArrayList<>();
        List<String> exclusions = new ArrayList<>();
        Map<String, Object> slices = new LinkedHashMap<>();
        Map<String, Object> elemMatches = new LinkedHashMap<>();
        List<String> paths = new ArrayList<>();
        for (Map.Entry<String, Object> entry : projection.entrySet()) {
            String path = entry.getKey();
            Object value = entry.getValue();
            checkPath(path);
            for (String other : paths) {
                if (overlap(other, path)) {
                    throw refused(path, "Path collision at " + path + " (with '" + other + "')");
                }
            }
            paths.add(path);
            if (value instanceof Number || value instanceof Boolean) {
                boolean included = value instanceof Boolean bool ? bool : ((Number) value).doubleValue() != 0;
                if (path.equals("_id")) {
                    id = included;
                } else {
                    (included ? inclusions : exclusions).add(path);
                }
            } else if (value instanceof Document operator && operator.size() == 1 && operator.containsKey("$slice")) {
                if (path.contains(".")) {
                    throw refused(path, "$slice is supported on top-level fields only");
                }
                ProjectionTrim.checkSlice(path, operator.get("$slice"));
                slices.put(path, operator.get("$slice"));
            } else if (value instanceof Document operator && operator.size() == 1 && operator.get("$elemMatch") instanceof Document) {
                elemMatches.put(path, value);
            } else {
                throw refused(path, "only 0, 1, true, false, {$slice: n}, {$slice: [skip, limit]} and {$elemMatch: query} are "
                    + "supported, was " + (value instanceof Document document ? document.toJson() : String.valueOf(value)));
            }
        }
        Parsed parsed = new Parsed(id, inclusions, exclusions, slices, elemMatches);
        if (parsed.inclusion() && !exclusions.isEmpty()) {
            throw refused(exclusions.get(0), "Cannot do exclusion on field " + exclusions.get(0) + " in inclusion projection");
        }
        return parsed;
    }

    private static void checkPath(String path) {
        if (path.isEmpty() || path.startsWith("$") || path.startsWith(".") || path.endsWith(".") || path.contains("..")) {
            throw refused(path, "not a field path");
        }
        for (String segment : path.split("\\.")) {
            if (segment.startsWith("$")) {
                throw refused(path, "the positional operator and $-prefixed fields are not supported across shards");
            }
        }
    }

    /** Whether {@code outer} is {@code inner} or one of its ancestors. */
    static boolean covers(String outer, String inner) {
        return inner.equals(outer) || inner.startsWith(outer + ".");
    }

    static boolean overlap(String a, String b) {
        return covers(a, b) || covers(b, a);
    }

    private static RouterException refused(String path, String why) {
        return new RouterException(RouterException.Kind.BAD_REQUEST, "projection." + path + ": " + why);
    }
}
