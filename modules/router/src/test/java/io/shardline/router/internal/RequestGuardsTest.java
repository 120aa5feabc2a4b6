package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.shardline.router.api.RouterException;

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

    @Test
    void shouldMeasureDocumentsOfEveryTypeTheDriverWritesAndRefuseOnlyThoseOverSixteenMebibytes() {
        Document ordinary = new Document("_id", "u1").append("roles", List.of("admin", "viewer")).append("at", new java.util.Date())
            .append("profile", java.util.Map.of("zip", 12345)).append("tags", java.util.Set.of("a"));
        RequestGuards.rejectTooLarge("documents[0]", ordinary);

        Document huge = new Document("_id", "u2").append("blob", "x".repeat(RequestGuards.MAX_DOCUMENT_BYTES));
        assertThatThrownBy(() -> RequestGuards.rejectTooLarge("documents[0]", huge)).isInstanceOf(RouterException.class)
            .hasMessageContaining("documents[0]").hasMessageContaining("16777216")
            .extracting(e -> ((RouterException) e).kind()).isEqualTo(RouterException.Kind.TOO_LARGE);
    }

    @Test
    void shouldRefuseTheReservedKeyInRenamesAndPathsAndNestingBeyondAHundredLevels() {
        assertThatThrownBy(() -> RequestGuards.check("update", new Document("$rename", new Document("name", "_sk"))))
            .hasMessageContaining("'_sk' is reserved");
        assertThatThrownBy(() -> RequestGuards.check("filter", new Document("$or", List.of(new Document("_sk.x", 1)))))
            .hasMessageContaining("_sk.x: '_sk' is reserved");
        RequestGuards.check("filter", new Document("profile", new Document("_skill", 1)));
        assertThatThrownBy(() -> RequestGuards.check("filter", new Document("_tx.id", "t1")))
            .hasMessageContaining("filter: _tx.id: '_tx' is reserved by Shardline (a transaction's intent)");
        assertThatThrownBy(() -> RequestGuards.check("update", new Document("$set", new Document("_tx", 1))))
            .hasMessageContaining("'_tx' is reserved");
        RequestGuards.check("filter", new Document("_txt", 1));
        Document deep = new Document("leaf", 1);
        for (int i = 0; i < 100; i++) {
            deep = new Document("d", deep);
        }
        Document tooDeep = deep;
        assertThatThrownBy(() -> RequestGuards.check("documents[0]", tooDeep)).hasMessageContaining("nested deeper than 100");
        RequestGuards.check("documents[0]", ((Document) tooDeep.get("d")));
    }
}
