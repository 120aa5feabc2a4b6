package io.shardline.shard.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import de.bwaldvogel.mongo.bson.Document;

class UpdateDescriptionsTest {

    @Test
    void shouldReportRenameAsRemovalOfTheOldAndUpdateOfTheNewField() {
        Document update = new Document("$rename", new Document("nick", "alias"));
        Document post = new Document("_id", 1).append("alias", "ace");

        Document description = UpdateDescriptions.describe(update, post);

        assertThat(description.get("updatedFields")).isEqualTo(new Document("alias", "ace"));
        assertThat(description.get("removedFields")).isEqualTo(List.of("nick"));
    }

    @Test
    void shouldReportAPositionalUpdateAtTheArrayThatHoldsIt() {
        Document update = new Document("$set", new Document("roles.$", "admin"));
        Document post = new Document("_id", 1).append("roles", List.of("admin", "viewer"));

        Document description = UpdateDescriptions.describe(update, post);

        assertThat(description.get("updatedFields")).isEqualTo(new Document("roles", List.of("admin", "viewer")));
    }

    @Test
    void shouldReportNestedPathsWithTheirPostImageValue() {
        Document update = new Document("$inc", new Document("stats.logins", 1)).append("$set", new Document("profile.name", "Ann"));
        Document post = new Document("_id", 1).append("stats", new Document("logins", 7)).append("profile", new Document("name", "Ann"));

        Document description = UpdateDescriptions.describe(update, post);

        assertThat(description.get("updatedFields")).isEqualTo(new Document("stats.logins", 7).append("profile.name", "Ann"));
        assertThat(description.get("truncatedArrays")).isEqualTo(List.of());
    }

    @Test
    void shouldTellAReplacementFromAnOperatorUpdate() {
        assertThat(UpdateDescriptions.isOperatorUpdate(new Document("$set", new Document("a", 1)))).isTrue();
        assertThat(UpdateDescriptions.isOperatorUpdate(new Document("a", 1))).isFalse();
    }
}
