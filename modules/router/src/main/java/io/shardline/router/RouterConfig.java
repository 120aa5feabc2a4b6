package io.shardline.router;

import java.time.Duration;
import java.util.Objects;

import io.shardline.schemas.TopicCatalog;

/**
 * Settings of a {@link ShardRouter}.
 *
 * @param bootstrapServers Kafka, for the routing, shards and config topics
 * @param catalog          the control-plane topics
 * @param tenantField      the document field that holds the tenant; every request is scoped to its caller's tenant
 * @param shardTimeout     how long one shard may take to answer one request before it counts as missing
 * @param fenceBudget      how long a write to a fenced chunk waits for the next routing version before it fails
 *                         with a retryable error
 */
public record RouterConfig(String bootstrapServers, TopicCatalog catalog, String tenantField, Duration shardTimeout,
                           Duration fenceBudget) {

    public RouterConfig {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(catalog, "catalog");
        Objects.requireNonNull(tenantField, "tenantField");
        Objects.requireNonNull(shardTimeout, "shardTimeout");
        Objects.requireNonNull(fenceBudget, "fenceBudget");
        if (tenantField.isBlank() || tenantField.startsWith("$")) {
            throw new IllegalArgumentException("tenantField must be a field name, was '" + tenantField + "'");
        }
        if (shardTimeout.isNegative() || shardTimeout.isZero()) {
            throw new IllegalArgumentException("shardTimeout must be positive, was " + shardTimeout);
        }
        if (fenceBudget.isNegative()) {
            throw new IllegalArgumentException("fenceBudget must not be negative, was " + fenceBudget);
        }
    }

    public static RouterConfig defaults(String bootstrapServers, TopicCatalog catalog) {
        return new RouterConfig(bootstrapServers, catalog, "tenantId", Duration.ofSeconds(5), Duration.ofMillis(500));
    }

    public RouterConfig withShardTimeout(Duration timeout) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, timeout, fenceBudget);
    }

    public RouterConfig withFenceBudget(Duration budget) {
        return new RouterConfig(bootstrapServers, catalog, tenantField, shardTimeout, budget);
    }

    public RouterConfig withTenantField(String field) {
        return new RouterConfig(bootstrapServers, catalog, field, shardTimeout, fenceBudget);
    }
}
