package io.shardline.router.api;

/**
 * Whose documents a request may see and write. A tenant's requests are confined to that tenant: the router adds the
 * tenant predicate to every filter and sets the tenant field of every inserted document. A service caller (an
 * application that serves every tenant, as one connected to mongos would) sees each namespace whole.
 *
 * @param tenant the caller's tenant, or {@code null} for a service caller
 */
public record Scope(String tenant) {

    private static final Scope SERVICE = new Scope(null);

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
        return new Scope(tenant);
    }

    /** A caller that sees every tenant's documents. */
    public static Scope service() {
        return SERVICE;
    }

    public boolean isService() {
        return tenant == null;
    }

    @Override
    public String toString() {
        return tenant == null ? "service" : "tenant:" + tenant;
    }
}
