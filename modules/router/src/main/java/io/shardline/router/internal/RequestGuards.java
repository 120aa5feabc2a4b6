package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bson.Document;

import io.shardline.router.RouterException;

/**
 * Checks every request before it reaches a shard: no server-side JavaScript anywhere, and no reference to a tenant
 * other than the caller's. The tenant predicate itself is added by {@link #scopeToTenant}.
 */
public final class RequestGuards {

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
