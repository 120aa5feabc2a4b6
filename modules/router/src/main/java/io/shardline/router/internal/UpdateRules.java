package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bson.Document;
import org.bson.types.ObjectId;

import io.shardline.router.api.ImmutableFieldException;
import io.shardline.router.api.RouterException;

/**
 * What an update may do to the fields that place a document: the tenant field, the shard-key fields and the stored
 * shard key {@link ShardKeyField#NAME}. As MongoDB refuses an update that changes a shard key outside a transactional
 * move, the router refuses every update that could change one of them on a stored document, whatever the operator:
 * a stored document's tenant and shard key never change, a new document's tenant is the caller's, and no client
 * writes {@code _sk}. The one write of such a field let through is a {@code $set} or {@code $setOnInsert} of exactly
 * the value the filter fixes by equality (a value that compares equal only to itself), which changes nothing.
 *
 * <p>A path touches a protected field when it is the field, a path under it ({@code tenantId.x}) or a path above it
 * ({@code profile} for {@code profile.region}). A {@code $rename} is checked at both its source and its target.
 * Pipeline updates are not accepted by the router (its update is a document).
 */
public final class UpdateRules {

    /** The update operators the router passes to a shard; any other is refused. */
    public static final Set<String> OPERATORS = Set.of("$set", "$unset", "$rename", "$setOnInsert", "$inc", "$mul", "$min", "$max",
        "$currentDate", "$push", "$pull", "$pullAll", "$addToSet", "$pop", "$bit");

    private final String tenantField;
    private final List<String> keyFields;

    /**
     * @param tenantField the field holding each document's tenant
     * @param keyFields   the namespace's shard-key fields
     */
    public UpdateRules(String tenantField, List<String> keyFields) {
        this.tenantField = tenantField;
        this.keyFields = List.copyOf(keyFields);
    }

    /**
     * Checks an update against the fields that place a document and returns the update to send: an operator update
     * unchanged, a replacement with every protected field the filter fixes and the replacement leaves out copied into it
     * (so the stored document keeps them).
     *
     * @param scopedFilter the filter already scoped to the caller's tenant
     * @param upsert       whether a missing document is inserted from the filter's equalities and the update
     */
    public Document check(Document scopedFilter, Document update, boolean upsert) {
        Document pinned = equalities(scopedFilter);
        boolean operators = update.keySet().stream().anyMatch(k -> k.startsWith("$"));
        if (upsert) {
            checkUpsertFilter(pinned);
        }
        if (!operators) {
            return replacement(pinned, update);
        }
        for (Map.Entry<String, Object> entry : update.entrySet()) {
            String operator = entry.getKey();
            if (!OPERATORS.contains(operator)) {
                throw bad(operator.startsWith("$") ? operator + " is not an update operator the router accepts (one of " + sorted() + ")"
                    : "'" + operator + "' mixes a field with update operators; an update is either all operators or a replacement document");
            }
            if (!(entry.getValue() instanceof Document fields)) {
                throw bad(operator + " needs a document of fields");
            }
            for (Map.Entry<String, Object> field : fields.entrySet()) {
                checkPath(operator, field.getKey(), field.getValue(), pinned);
                if (operator.equals("$rename")) {
                    if (!(field.getValue() instanceof String target)) {
                        throw bad("$rename " + field.getKey() + " needs the new name as a string");
                    }
                    checkPath(operator, target, null, pinned);
                }
            }
        }
        return update;
    }

    private void checkPath(String operator, String path, Object value, Document pinned) {
        if (touches(path, ShardKeyField.NAME)) {
            throw reserved(operator, path);
        }
        for (String field : protectedFields()) {
            if (!touches(path, field)) {
                continue;
            }
            boolean sets = operator.equals("$set") || operator.equals("$setOnInsert");
            if (sets && path.equals(field) && pinned.containsKey(field) && fixedValue(pinned.get(field)) && pinned.get(field).equals(value)) {
                continue;
            }
            throw immutable(operator + " " + path + ": '" + field + "', " + role(field) + ", cannot be modified: a stored document's "
                + (field.equals(tenantField) ? "tenant" : "shard key") + " never changes (only a $set or $setOnInsert of the value the filter "
                + "fixes by equality is allowed; to move a document, delete it and insert it anew)");
        }
    }

    /** An upsert inserts the filter's equalities: none may name a path under or above a protected field. */
    private void checkUpsertFilter(Document pinned) {
        for (String path : pinned.keySet()) {
            if (touches(path, ShardKeyField.NAME)) {
                throw reserved("upsert filter", path);
            }
            for (String field : protectedFields()) {
                if (!path.equals(field) && touches(path, field)) {
                    throw new RouterException(RouterException.Kind.BAD_REQUEST, "filter: an upsert would insert '" + path + "', which is "
                        + "part of '" + field + "', " + role(field) + "; fix '" + field + "' itself by equality");
                }
            }
        }
    }

    private Document replacement(Document pinned, Document update) {
        Document completed = new Document(update);
        for (String path : update.keySet()) {
            if (touches(path, ShardKeyField.NAME)) {
                throw reserved("replacement", path);
            }
            if (path.contains(".") || path.isEmpty()) {
                throw bad("replacement field '" + path + "': a replacement document names whole fields, not paths");
            }
            for (String field : protectedFields()) {
                if (!path.equals(field) && touches(path, field)) {
                    throw immutable("replacement field '" + path + "' would change '" + field + "', " + role(field) + "; name '" + field + "' whole");
                }
            }
        }
        for (String field : protectedFields()) {
            if (field.contains(".")) {
                throw bad("a replacement document cannot keep '" + field + "', " + role(field) + " inside a subdocument, unchanged; "
                    + "update this namespace's documents with operators");
            }
            Object fixed = pinned.get(field);
            if (!update.containsKey(field)) {
                if (pinned.containsKey(field)) {
                    completed.put(field, fixed);
                }
            } else if (pinned.containsKey(field) && !java.util.Objects.equals(update.get(field), fixed)) {
                throw immutable("replacement sets '" + field + "', " + role(field) + ", to " + update.get(field) + " where the filter fixes it to "
                    + fixed + ": a stored document's " + (field.equals(tenantField) ? "tenant" : "shard key") + " never changes");
            }
        }
        return completed;
    }

    /**
     * A replacement, already {@link #check checked}, completed for the stored document it replaces: each protected
     * field the stored document has is kept (copied in when the replacement leaves it out), and a replacement that
     * gives one another value, or adds one the stored document lacks, is refused naming the field. For a replacement
     * whose filter does not fix every protected field by equality, once the router knows which document it replaces.
     */
    public Document keepStored(Document replacement, Document stored) {
        Document completed = new Document(replacement);
        for (String field : protectedFields()) {
            boolean has = stored.containsKey(field);
            if (!replacement.containsKey(field)) {
                if (has) {
                    completed.put(field, stored.get(field));
                }
            } else if (!has || !java.util.Objects.equals(replacement.get(field), stored.get(field))) {
                throw immutable("replacement sets '" + field + "', " + role(field) + ", to " + replacement.get(field) + " where the document it "
                    + "replaces has " + (has ? stored.get(field) : "no " + field) + ": a stored document's "
                    + (field.equals(tenantField) ? "tenant" : "shard key") + " never changes");
            }
        }
        return completed;
    }

    /**
     * A filter of the documents whose tenant and shard-key fields are those of {@code document} (top-level fields):
     * equal where it has them, missing where it has not.
     */
    public Document samePlacement(Document document) {
        Document filter = new Document();
        for (String field : protectedFields()) {
            filter.append(field, document.containsKey(field) ? new Document("$eq", document.get(field)) : new Document("$exists", false));
        }
        return filter;
    }

    private List<String> protectedFields() {
        List<String> fields = new ArrayList<>(keyFields.size() + 1);
        fields.add(tenantField);
        keyFields.stream().filter(f -> !f.equals(tenantField)).forEach(fields::add);
        return fields;
    }

    private String role(String field) {
        boolean key = keyFields.contains(field);
        if (field.equals(tenantField)) {
            return key ? "the tenant field and a shard-key field" : "the tenant field";
        }
        return "a shard-key field";
    }

    /** True if writing {@code path} writes {@code field}, a path under it, or a document holding it. */
    static boolean touches(String path, String field) {
        return path.equals(field) || path.startsWith(field + ".") || field.startsWith(path + ".");
    }

    /**
     * A value that a filter's equality matches only in itself: a $set of it to a matched document changes nothing.
     * Numbers are not (5 matches 5.0 and 5L), nor arrays (an element matches), null (a missing field), patterns or
     * documents.
     */
    private static boolean fixedValue(Object value) {
        return value instanceof String || value instanceof ObjectId || value instanceof Boolean || value instanceof java.util.Date;
    }

    /** Top-level (and {@code $and}-nested) equality conditions of a filter, as a document. */
    public static Document equalities(Document filter) {
        Document result = new Document();
        for (Map.Entry<String, Object> entry : filter.entrySet()) {
            if (entry.getKey().equals("$and") && entry.getValue() instanceof List<?> branches) {
                for (Object branch : branches) {
                    if (branch instanceof Document nested) {
                        equalities(nested).forEach(result::putIfAbsent);
                    }
                }
            } else if (!entry.getKey().startsWith("$")) {
                Object value = entry.getValue();
                if (value instanceof Document operators && operators.size() == 1 && operators.containsKey("$eq")) {
                    result.putIfAbsent(entry.getKey(), operators.get("$eq"));
                } else if (!(value instanceof Document d && d.keySet().stream().anyMatch(k -> k.startsWith("$")))) {
                    result.putIfAbsent(entry.getKey(), value);
                }
            }
        }
        return result;
    }

    private static List<String> sorted() {
        return OPERATORS.stream().sorted().toList();
    }

    private static RouterException bad(String problem) {
        return new RouterException(RouterException.Kind.BAD_REQUEST, "update: " + problem);
    }

    /** A change to a tenant or shard-key field. */
    private static RouterException immutable(String problem) {
        return new ImmutableFieldException("update: " + problem);
    }

    private static RouterException reserved(String where, String path) {
        return new RouterException(RouterException.Kind.BAD_REQUEST, "update: " + where + " " + path + ": '" + ShardKeyField.NAME
            + "' is reserved by Shardline (the stored shard key) and cannot be written, read or renamed by a client");
    }
}
