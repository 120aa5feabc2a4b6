package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bson.Document;

import io.shardline.router.api.RouterException;

/**
 * Checks every request before it reaches a shard: no server-side JavaScript anywhere, and no reference to a tenant
 * other than the caller's. The tenant predicate itself is added by {@link #scopeToTenant}.
 */
public final class RequestGuards {

    /** MongoDB's limit on the nesting of documents; requests nested deeper are refused before they reach a shard. */
    public static final int MAX_DEPTH = 100;
    /** MongoDB's limit on the size of one stored document. */
    public static final int MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

    /** Encodes documents as the driver will send them (lists, maps, dates, every type the driver writes). */
    private static final org.bson.codecs.Codec<org.bson.Document> DOCUMENT_CODEC =
        com.mongodb.MongoClientSettings.getDefaultCodecRegistry().get(org.bson.Document.class);

    /** Operators that run JavaScript on the server. */
    static final Set<String> SERVER_SIDE_JAVASCRIPT = Set.of("$where", "$function", "$accumulator");

    private RequestGuards() {
    }

    /** Rejects any server-side JavaScript operator at any depth of {@code value}; {@code field} names the request part. */
    public static void rejectServerSideJavaScript(String field, Object value) {
        if (value instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                String key = String.valueOf(entry.getKey());
                if (SERVER_SIDE_JAVASCRIPT.contains(key)) {
                    throw new RouterException(RouterException.Kind.FORBIDDEN,
                        field + ": " + key + " runs JavaScript on the server and is not allowed");
                }
                rejectServerSideJavaScript(field, entry.getValue());
            }
        } else if (value instanceof List<?> list) {
            for (Object item : list) {
                rejectServerSideJavaScript(field, item);
            }
        }
    }

    /**
     * Rejects a value nested deeper than {@link #MAX_DEPTH} documents and arrays (walked without recursion, so any
     * depth is refused rather than overflowing the stack); {@code field} names the request part.
     */
    public static void rejectTooDeep(String field, Object value) {
        java.util.ArrayDeque<Object[]> pending = new java.util.ArrayDeque<>();
        pending.push(new Object[] {value, 1});
        while (!pending.isEmpty()) {
            Object[] next = pending.pop();
            int depth = (Integer) next[1];
            java.util.Collection<?> children = next[0] instanceof Map<?, ?> map ? map.values() : next[0] instanceof List<?> list ? list : null;
            if (children == null) {
                continue;
            }
            if (depth > MAX_DEPTH) {
                throw new RouterException(RouterException.Kind.BAD_REQUEST, field + ": nested deeper than " + MAX_DEPTH + " levels, as MongoDB allows");
            }
            for (Object child : children) {
                pending.push(new Object[] {child, depth + 1});
            }
        }
    }

    /**
     * Rejects any use of a field the router reserves ({@link ShardKeyField#NAME}, the stored shard key, and
     * {@link TxnIntents#FIELD}, a transaction's intent) in a filter,
     * update, projection or sort: as a key at any depth, as a dotted path under it, or as the target of a
     * {@code $rename}. A client that could write it could place a document outside the range its key encodes.
     */
    public static void rejectReservedFields(String field, Object value) {
        java.util.ArrayDeque<Object> pending = new java.util.ArrayDeque<>();
        pending.push(value);
        while (!pending.isEmpty()) {
            Object next = pending.pop();
            if (next instanceof Map<?, ?> map) {
                for (Map.Entry<?, ?> entry : map.entrySet()) {
                    String key = String.valueOf(entry.getKey());
                    if (reserved(key)) {
                        throw reservedField(field, key);
                    }
                    if (key.equals("$rename") && entry.getValue() instanceof Map<?, ?> renames) {
                        for (Object target : renames.values()) {
                            if (target instanceof String path && reserved(path)) {
                                throw reservedField(field, path);
                            }
                        }
                    }
                    if (entry.getValue() != null) {
                        pending.push(entry.getValue());
                    }
                }
            } else if (next instanceof List<?> list) {
                list.forEach(item -> {
                    if (item != null) {
                        pending.push(item);
                    }
                });
            }
        }
    }

    private static boolean reserved(String path) {
        return path.equals(ShardKeyField.NAME) || path.startsWith(ShardKeyField.NAME + ".") || TxnIntents.names(path);
    }

    private static RouterException reservedField(String field, String path) {
        return new RouterException(RouterException.Kind.BAD_REQUEST, field + ": " + path + ": '" + (TxnIntents.names(path) ? TxnIntents.FIELD : ShardKeyField.NAME)
            + "' is reserved by Shardline (" + (TxnIntents.names(path) ? "a transaction's intent" : "the stored shard key")
            + ") and cannot be written, read or renamed by a client");
    }

    /** Rejects a document that MongoDB would refuse to store for its size; {@code field} names it. */
    public static void rejectTooLarge(String field, org.bson.Document document) {
        int size = new org.bson.RawBsonDocument(document, DOCUMENT_CODEC).getByteBuffer().remaining();
        if (size > MAX_DOCUMENT_BYTES) {
            throw new RouterException(RouterException.Kind.TOO_LARGE, field + ": " + size + " bytes as BSON, over MongoDB's limit of "
                + MAX_DOCUMENT_BYTES + " bytes per document");
        }
    }

    /** Every check of a request part: depth first (the others walk it), then JavaScript and reserved fields. */
    public static void check(String field, Object value) {
        if (value == null) {
            return;
        }
        rejectTooDeep(field, value);
        rejectServerSideJavaScript(field, value);
        rejectReservedFields(field, value);
    }

    /**
     * The filter restricted to the caller's tenant. A filter that names any other tenant value for the tenant field
     * (in an equality, {@code $in}, {@code $ne}, range, at any depth of {@code $and}/{@code $or}/{@code $nor}) is refused.
     */
    public static Document scopeToTenant(String tenantField, String tenant, Document filter) {
        List<Object> named = new ArrayList<>();
        collectTenantValues(tenantField, filter, named);
        for (Object value : named) {
            if (!tenant.equals(value)) {
                throw new RouterException(RouterException.Kind.FORBIDDEN,
                    "filter: " + tenantField + " may only name the caller's tenant '" + tenant + "', found " + value);
            }
        }
        Document tenantOnly = new Document(tenantField, tenant);
        if (filter == null || filter.isEmpty()) {
            return tenantOnly;
        }
        if (!filter.containsKey(tenantField)) {
            // Top-level fields are ANDed: the flat form means the same and is what a shard matches fastest.
            tenantOnly.putAll(filter);
            return tenantOnly;
        }
        return new Document("$and", List.of(tenantOnly, filter));
    }

    private static void collectTenantValues(String tenantField, Object node, List<Object> out) {
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                String key = String.valueOf(entry.getKey());
                if (key.equals(tenantField)) {
                    operandValues(entry.getValue(), out);
                } else if (key.startsWith("$")) {
                    collectTenantValues(tenantField, entry.getValue(), out);
                }
            }
        } else if (node instanceof List<?> list) {
            for (Object item : list) {
                collectTenantValues(tenantField, item, out);
            }
        }
    }

    private static void operandValues(Object condition, List<Object> out) {
        if (condition instanceof Map<?, ?> operators && !operators.isEmpty()
            && operators.keySet().stream().allMatch(k -> String.valueOf(k).startsWith("$"))) {
            for (Map.Entry<?, ?> op : operators.entrySet()) {
                if (op.getValue() instanceof List<?> values) {
                    out.addAll(values);
                } else if (op.getValue() instanceof Map<?, ?>) {
                    operandValues(op.getValue(), out);
                } else {
                    out.add(op.getValue());
                }
            }
        } else {
            out.add(condition);
        }
    }
}
