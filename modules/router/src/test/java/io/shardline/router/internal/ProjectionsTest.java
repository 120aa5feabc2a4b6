package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

class ProjectionsTest {

    @Test
    void shouldAskShardsForSortFieldsAnInclusionLacksAndStripThemAfterwards() {
        Document projection = new Document("name", 1);
        Document pushed = Projections.forShards(projection, List.of("age", "_id"));

        assertThat(pushed).isEqualTo(new Document("name", 1).append("age", 1));
        Document merged = new Document("_id", 1).append("name", "a").append("age", 3);
        assertThat(Projections.finish(merged, projection, List.of("age", "_id"))).isEqualTo(new Document("_id", 1).append("name", "a"));
    }

    @Test
    void shouldNotExcludeASortFieldOnShardsButRemoveItAtTheRouter() {
        Document projection = new Document("age", 0);

        assertThat(Projections.forShards(projection, List.of("age"))).isEqualTo(new Document(ShardKeyField.NAME, 0));
        assertThat(Projections.finish(new Document("_id", 1).append("age", 3), projection, List.of("age")))
            .isEqualTo(new Document("_id", 1));
    }

    @Test
    void shouldAlwaysHideTheStoredShardKey() {
        assertThat(Projections.forShards(null, List.of())).isEqualTo(new Document(ShardKeyField.NAME, 0));
        assertThat(Projections.finish(new Document("_id", 1).append(ShardKeyField.NAME, "ab"), null, List.of()))
            .isEqualTo(new Document("_id", 1));
    }
}
