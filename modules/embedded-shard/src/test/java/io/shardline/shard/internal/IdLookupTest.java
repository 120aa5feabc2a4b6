package io.shardline.shard.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import de.bwaldvogel.mongo.bson.Document;

class IdLookupTest {

    private static Document in(Object... ids) {
        return new Document("$in", List.of(ids));
    }

    @Test
    void shouldDropOnlyTheIdListCandidatesAreReadBy() {
        assertThat(IdLookup.withoutIdList(new Document("_id", in("a", "b")).append("n", 1))).isEqualTo(new Document("n", 1));
        assertThat(IdLookup.withoutIdList(new Document("_id", in("a"))).isEmpty()).isTrue();

        Document nested = new Document("$and", List.of(new Document("_id", in("a")).append("n", 1), new Document("_sk", "00")));
        assertThat(IdLookup.withoutIdList(nested))
            .isEqualTo(new Document("$and", List.of(new Document("n", 1), new Document("_sk", "00"))));
        Document alone = new Document("$and", List.of(new Document("_id", in("a"))));
        assertThat(IdLookup.withoutIdList(alone).isEmpty()).as("an $and left with no branch goes").isTrue();
    }

    @Test
    void shouldLeaveTheCallersFilterAsItWas() {
        Document filter = new Document("_id", in("a")).append("n", 1);

        IdLookup.withoutIdList(filter);

        assertThat(filter).containsKey("_id");
    }
}
