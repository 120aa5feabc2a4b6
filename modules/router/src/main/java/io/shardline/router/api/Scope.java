package io.shardline.router.api;

import io.shardline.schemas.avro.WriteDurability;

/**
 * Whose documents a request may see and write. A tenant's requests are confined to that tenant: the router adds the
 * tenant predicate to every filter and sets the tenant field of every inserted document. A service caller (an
 * application that serves every tenant, as one connected to mongos would) sees each namespace whole.
 *
 * <p>A scope may also say how durable the request's writes must be before they are acknowledged
 * ({@link #withDurability}); without it, each namespace's own durability applies (its config's {@code durability}).
 *
 * @param tenant     the caller's tenant, or {@code null} for a service caller
 * @param durability the durability the request's writes ask for, or {@code null} for the namespace's
 */
public record Scope(String tenant, WriteDurability durability) {

    private static final Scope SERVICE = new Scope(null, null);

    public Scope {
        if (tenant != null && tenant.isBlank()) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "tenant: every request needs the caller's tenant");
        }
    }

    /** A caller confined to {@code tenant}. */
    public static Scope tenant(String tenant) {
        if (tenant == null) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "tenant: every request needs the caller's tenant");
        }
        return new Scope(tenant, null);
    }

    /** A caller that sees every tenant's documents. */
    public static Scope service() {
        return SERVICE;
    }

    /** The same caller, its writes acknowledged with {@code durability} ({@code null}: each namespace's own). */
    public Scope withDurability(WriteDurability durability) {
        return new Scope(tenant, durability);
    }

    public boolean isService() {
        return tenant == null;
    }

    /** Whose documents the request reaches (the read cache's key part; the durability does not change a read). */
    @Override
    public String toString() {
        return tenant == null ? "service" : "tenant:" + tenant;
    }
}
