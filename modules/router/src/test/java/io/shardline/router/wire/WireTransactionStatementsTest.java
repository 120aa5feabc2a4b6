package io.shardline.router.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.bson.Document;
import org.junit.jupiter.api.Test;

class WireTransactionStatementsTest {

    private static final Document TIER_GOLD = new Document("tier", "gold");

    @Test
    void shouldInsertTheEqualitiesWithSetOnInsertOverThemAndLeaveTheOtherOperatorsToTheShard() {
        Document update = new Document("$set", new Document("plan", "pro")).append("$setOnInsert", new Document("since", 2024).append("tier", "silver"))
            .append("$inc", new Document("logins", 1));

        WireTransactionStatements.UpsertSteps steps = WireTransactionStatements.upsertSteps("u1", TIER_GOLD, update);

        assertThat(steps.insert()).isEqualTo(new Document("_id", "u1").append("tier", "silver").append("since", 2024));
        assertThat(steps.then()).isEqualTo(new Document("$set", new Document("plan", "pro")).append("$inc", new Document("logins", 1)));
        assertThat(update).as("the client's update is left as it was").containsKey("$setOnInsert");
        assertThat(WireTransactionStatements.upsertSteps("u2", new Document("profile.city", "Oslo"), new Document("$setOnInsert",
            new Document("profile.zip", "0150"))).insert()).as("dotted paths make the documents on their way")
            .isEqualTo(new Document("_id", "u2").append("profile", new Document("city", "Oslo").append("zip", "0150")));
    }

    @Test
    void shouldRefuseAPathSetOnInsertThatAnotherOperatorAlsoUpdatesAsConflicting() {
        Map<Document, String> conflicts = Map.of(
            new Document("$set", new Document("plan", "a")).append("$setOnInsert", new Document("plan", "b")), "plan",
            new Document("$set", new Document("trial.days", 3)).append("$setOnInsert", new Document("trial", new Document("days", 7))), "trial",
            new Document("$inc", new Document("trial", 3)).append("$setOnInsert", new Document("trial.days", 7)), "trial",
            new Document("$rename", new Document("old", "seats")).append("$setOnInsert", new Document("seats", 1)), "seats");
        conflicts.forEach((update, at) -> assertThatThrownBy(() -> WireTransactionStatements.upsertSteps("u1", new Document(), update))
            .isInstanceOfSatisfying(WireCommandException.class, e -> {
                assertThat(e.error().code()).isEqualTo(WireError.CONFLICTING_UPDATE_OPERATORS);
                assertThat(e.error().codeName()).isEqualTo("ConflictingUpdateOperators");
                assertThat(e.getMessage()).endsWith("would create a conflict at '" + at + "'");
            }));
        assertThat(WireTransactionStatements.upsertSteps("u1", new Document(), new Document("$set", new Document("trial", 3))
            .append("$setOnInsert", new Document("trials", 7))).insert()).as("a path that only starts with the same letters")
            .containsEntry("trials", 7);
    }

    @Test
    void shouldRefuseAFieldCreatedInsideAValueThatIsNoDocument() {
        assertThatThrownBy(() -> WireTransactionStatements.upsertSteps("u1", TIER_GOLD, new Document("$setOnInsert", new Document("tier.level", 2))))
            .isInstanceOfSatisfying(WireCommandException.class, e -> {
                assertThat(e.error().code()).isEqualTo(WireError.PATH_NOT_VIABLE);
                assertThat(e.error().codeName()).isEqualTo("PathNotViable");
                assertThat(e.getMessage()).isEqualTo("Cannot create field 'level' in element {tier: gold}");
            });
        assertThatThrownBy(() -> WireTransactionStatements.upsertSteps("u1", new Document(), new Document("$setOnInsert", "plan")))
            .isInstanceOfSatisfying(WireCommandException.class, e -> assertThat(e.error().code()).isEqualTo(WireError.FAILED_TO_PARSE));
    }
}
