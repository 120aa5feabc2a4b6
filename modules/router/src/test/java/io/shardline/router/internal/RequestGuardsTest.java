package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.shardline.router.RouterException;

class RequestGuardsTest {

    @Test
    void shouldAddTheTenantToEveryFilter() {
        assertThat(RequestGuards.scopeToTenant("tenantId", "acme", new Document()))
            .isEqualTo(new Document("tenantId", "acme"));
        assertThat(RequestGuards.scopeToTenant("tenantId", "acme", new Document("a", 1)))
            .isEqualTo(new Document("tenantId", "acme").append("a", 1));
        Document namingTheTenant = new Document("tenantId", new Document("$in", List.of("acme"))).append("a", 1);
        assertThat(RequestGuards.scopeToTenant("tenantId", "acme", namingTheTenant))
            .as("a filter on the tenant field keeps its own condition beside the tenant's")
            .isEqualTo(new Document("$and", List.of(new Document("tenantId", "acme"), namingTheTenant)));
    }

    @Test
    void shouldAcceptTheCallersOwnTenantAndRefuseAnyOther() {
        RequestGuards.scopeToTenant("tenantId", "acme", new Document("tenantId", new Document("$in", List.of("acme"))));

        assertThatThrownBy(() -> RequestGuards.scopeToTenant("tenantId", "acme",
            new Document("$nor", List.of(new Document("tenantId", "evil")))))
            .isInstanceOf(RouterException.class).hasMessageContaining("evil");
        assertThatThrownBy(() -> RequestGuards.scopeToTenant("tenantId", "acme",
            new Document("tenantId", new Document("$regex", ".*"))))
            .isInstanceOf(RouterException.class);
    }

    @Test
    void shouldFindJavaScriptOperatorsAtAnyDepth() {
        assertThatThrownBy(() -> RequestGuards.rejectServerSideJavaScript("pipeline",
            List.of(new Document("$group", new Document("_id", null).append("x", new Document("$accumulator", new Document()))))))
            .hasMessageContaining("pipeline").hasMessageContaining("$accumulator");
        RequestGuards.rejectServerSideJavaScript("filter", new Document("where", "$where is only a value here"));
    }
}
