package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.shardline.router.api.RouterException;

class UpdateRulesTest {

    private static final UpdateRules SESSIONS = new UpdateRules("tenantId", List.of("userId"));
    private static final UpdateRules USERS = new UpdateRules("tenantId", List.of("tenantId"));
    private static final UpdateRules REGIONS = new UpdateRules("tenantId", List.of("profile.region"));
    private static final Document ACME = new Document("tenantId", "acme");

    private static void refused(UpdateRules rules, Document filter, Document update, boolean upsert, String... named) {
        assertThatThrownBy(() -> rules.check(filter, update, upsert))
            .as(update.toJson())
            .isInstanceOf(RouterException.class)
            .hasMessageContainingAll(named)
            .extracting(e -> ((RouterException) e).kind()).isEqualTo(RouterException.Kind.BAD_REQUEST);
    }

    private static Document op(String operator, String field, Object value) {
        return new Document(operator, new Document(field, value));
    }

    @Test
    void shouldRefuseEveryOperatorOnTheTenantFieldEvenWhenItIsNotTheShardKey() {
        for (String operator : UpdateRules.OPERATORS) {
            Object value = operator.equals("$rename") ? "elsewhere" : operator.equals("$set") || operator.equals("$setOnInsert") ? "globex" : 1;
            refused(SESSIONS, ACME, op(operator, "tenantId", value), false, "'tenantId'", "the tenant field", operator);
            refused(SESSIONS, ACME, op(operator, "userId", value), true, "'userId'", "a shard-key field", operator);
            assertThatThrownBy(() -> SESSIONS.check(ACME, op(operator, "tenantId", value), false)).as("MongoDB's ImmutableField")
                .isInstanceOf(io.shardline.router.api.ImmutableFieldException.class);
        }
    }

    @Test
    void shouldRefuseARenameAtItsTargetAndItsSource() {
        refused(USERS, ACME, op("$rename", "name", "tenantId"), false, "'tenantId'", "$rename tenantId");
        refused(SESSIONS, ACME, op("$rename", "other", "userId"), false, "'userId'");
        refused(SESSIONS, ACME, op("$rename", "userId", "other"), false, "'userId'");
        refused(SESSIONS, ACME, op("$rename", "other", 5), false, "$rename other");
    }

    @Test
    void shouldRefuseDottedPathsUnderAndAboveAProtectedField() {
        refused(SESSIONS, ACME, op("$set", "tenantId.x", 1), false, "'tenantId'");
        refused(SESSIONS, ACME, op("$unset", "userId.0", ""), false, "'userId'");
        refused(REGIONS, ACME, op("$set", "profile", new Document("region", "eu")), false, "'profile.region'");
        refused(REGIONS, ACME, op("$rename", "p", "profile.region.x"), false, "'profile.region'");
        SESSIONS.check(ACME, op("$set", "tenantIdentity", "x"), false);
        REGIONS.check(ACME, op("$set", "profile.regional", "x"), false);
    }

    @Test
    void shouldNameTheReservedShardKeyFieldItselfWhenAnUpdateTouchesIt() {
        refused(USERS, ACME, op("$set", "_sk", "zz"), false, "'_sk'", "reserved");
        refused(USERS, ACME, op("$rename", "name", "_sk"), false, "'_sk'", "reserved");
        refused(USERS, ACME, new Document("name", "x").append("_sk", "zz"), false, "'_sk'", "reserved");
        assertThatThrownBy(() -> USERS.check(ACME, op("$set", "_sk.a", 1), false)).hasMessageNotContaining("tenantId");
    }

    @Test
    void shouldLetASetOfTheValueTheFilterFixesThroughAndNothingElse() {
        Document filter = new Document("tenantId", "acme").append("userId", "u1");
        assertThat(SESSIONS.check(filter, op("$setOnInsert", "tenantId", "acme"), true)).isEqualTo(op("$setOnInsert", "tenantId", "acme"));
        SESSIONS.check(filter, op("$set", "userId", "u1"), true);
        refused(SESSIONS, filter, op("$setOnInsert", "tenantId", "globex"), true, "'tenantId'");
        refused(SESSIONS, filter, op("$setOnInsert", "userId", "u2"), true, "'userId'");
        refused(SESSIONS, ACME, op("$set", "userId", "u1"), false, "'userId'");
        Document numeric = new Document("tenantId", "acme").append("userId", 5);
        refused(SESSIONS, numeric, op("$set", "userId", 5), false, "'userId'");
        Document $in = new Document("$and", List.of(ACME, new Document("userId", new Document("$in", List.of("u1")))));
        refused(SESSIONS, $in, op("$set", "userId", "u1"), false, "'userId'");
    }

    @Test
    void shouldRefuseUnknownOperatorsAndMixedUpdates() {
        refused(SESSIONS, ACME, op("$setWindowFields", "a", 1), false, "$setWindowFields", "not an update operator");
        refused(SESSIONS, ACME, op("$set", "a", 1).append("b", 2), false, "'b' mixes");
        refused(SESSIONS, ACME, new Document("$set", 5), false, "$set needs a document");
    }

    @Test
    void shouldRefuseAnUpsertWhoseFilterFixesAPathInsideAProtectedField() {
        Document filter = new Document("tenantId", "acme").append("userId", "u1").append("userId.x", 1);
        refused(SESSIONS, filter, op("$set", "a", 1), true, "filter", "userId.x", "'userId'");
        SESSIONS.check(filter, op("$set", "a", 1), false);
    }

    @Test
    void shouldKeepAReplacementsProtectedFieldsAndRefuseAnotherValue() {
        Document filter = new Document("tenantId", "acme").append("userId", "u1");

        Document completed = SESSIONS.check(filter, new Document("tenantId", "acme").append("name", "x"), false);

        assertThat(completed).isEqualTo(new Document("tenantId", "acme").append("name", "x").append("userId", "u1"));
        refused(SESSIONS, filter, new Document("tenantId", "acme").append("userId", "u2"), false, "'userId'", "u2", "u1");
        refused(SESSIONS, filter, new Document("tenantId", "acme").append("userId.x", 1), true, "'userId.x'");
        refused(SESSIONS, filter, new Document("tenantId", "acme").append("profile.region", 1), false, "'profile.region'", "whole fields");
        refused(REGIONS, filter, new Document("profile", new Document("region", "eu")), false, "'profile.region'");
        refused(REGIONS, filter, new Document("name", "x"), false, "'profile.region'", "operators");
    }

    @Test
    void shouldKeepTheStoredDocumentsTenantAndShardKeyInAReplacementThatLeavesThemOut() {
        Document stored = new Document("_id", "s1").append("tenantId", "acme").append("userId", "u1").append("name", "old");

        assertThat(SESSIONS.keepStored(new Document("name", "new"), stored))
            .isEqualTo(new Document("name", "new").append("tenantId", "acme").append("userId", "u1"));
        assertThat(SESSIONS.keepStored(new Document("userId", "u1").append("name", "new"), stored))
            .isEqualTo(new Document("userId", "u1").append("name", "new").append("tenantId", "acme"));
        assertThat(SESSIONS.keepStored(new Document("name", "new"), new Document("_id", "x").append("userId", "u1")))
            .as("a document without a tenant stays without one").isEqualTo(new Document("name", "new").append("userId", "u1"));
    }

    @Test
    void shouldRefuseAReplacementThatWouldChangeTheStoredDocumentsTenantOrShardKey() {
        Document stored = new Document("_id", "s1").append("tenantId", "acme").append("userId", "u1");

        assertThatThrownBy(() -> SESSIONS.keepStored(new Document("userId", "u2"), stored))
            .isInstanceOf(RouterException.class).hasMessageContainingAll("'userId'", "a shard-key field", "u2", "has u1");
        assertThatThrownBy(() -> SESSIONS.keepStored(new Document("tenantId", "globex"), stored))
            .isInstanceOf(RouterException.class).hasMessageContainingAll("'tenantId'", "the tenant field", "globex", "tenant never changes");
        assertThatThrownBy(() -> SESSIONS.keepStored(new Document("tenantId", "acme"), new Document("_id", "x").append("userId", "u1")))
            .as("a tenant given to a document that had none").isInstanceOf(RouterException.class)
            .hasMessageContainingAll("'tenantId'", "has no tenantId");
    }

    @Test
    void shouldMatchTheDocumentsPlacedAsAGivenOne() {
        assertThat(SESSIONS.samePlacement(new Document("_id", "x").append("userId", "u1")))
            .isEqualTo(new Document("tenantId", new Document("$exists", false)).append("userId", new Document("$eq", "u1")));
        assertThat(USERS.samePlacement(new Document("tenantId", "acme")))
            .isEqualTo(new Document("tenantId", new Document("$eq", "acme")));
    }
}
