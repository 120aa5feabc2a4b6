package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

class RouterStagesTest {

    private static final Document PROJECT_KEY = new Document("$project", new Document("_id", 0).append("key", "$_id").append("n", 1));

    @Test
    void shouldKeepANullThatAFieldPathOfAProjectionFindsAsMongoDbDoes() {
        List<Document> projected = RouterStages.apply(List.of(new Document("_id", null).append("n", 3)), List.of(PROJECT_KEY));

        Document expected = new Document("key", null).append("n", 3);
        assertThat(projected).containsExactly(expected);
        assertThat(projected.get(0).containsKey("key")).isTrue();
    }

    @Test
    void shouldLeaveOutWhatAFieldPathOfAProjectionDoesNotFind() {
        List<Document> projected = RouterStages.apply(List.of(new Document("n", 3), new Document("_id", new Document("a", null))),
            List.of(new Document("$project", new Document("key", "$_id.a").append("other", "$_id.b").append("n", 1))));

        assertThat(projected).containsExactly(new Document("n", 3), new Document("_id", new Document("a", null)).append("key", null));
    }

    @Test
    void shouldTellAFieldHoldingNullFromAMissingOne() {
        Document document = new Document("a", new Document("b", null)).append("c", new ArrayList<>());

        assertThat(RouterStages.exists(document, "a.b")).isTrue();
        assertThat(RouterStages.exists(document, "a.x")).isFalse();
        assertThat(RouterStages.exists(document, "c")).isTrue();
        assertThat(RouterStages.exists(document, "c.d")).isFalse();
    }
}
