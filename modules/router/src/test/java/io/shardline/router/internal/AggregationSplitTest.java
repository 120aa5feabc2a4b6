package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.shardline.router.api.RouterException;

class AggregationSplitTest {

    @Test
    void shouldPushMatchAndSortToShardsAndTurnSkipPlusLimitIntoATopNPerShard() {
        AggregationSplit split = AggregationSplit.of(List.of(
            new Document("$match", new Document("plan", "pro")),
            new Document("$sort", new Document("score", -1)),
            new Document("$skip", 5), new Document("$limit", 10)));

        assertThat(split.shardStages()).containsExactly(
            new Document("$match", new Document("plan", "pro")),
            new Document("$sort", new Document("score", -1)),
            new Document("$limit", 15));
        assertThat(split.routerStages()).containsExactly(new Document("$skip", 5), new Document("$limit", 10));
        assertThat(split.mergeSort()).isEqualTo(new Document("score", -1));
        assertThat(split.targetingFilter()).isEqualTo(new Document("plan", "pro"));
    }

    @Test
    void shouldRunAGroupAsPartialsOnShardsAndFinishItAtTheRouter() {
        GroupMerge merge = new GroupMerge(new Document("_id", "$plan").append("n", new Document("$sum", 1))
            .append("avg", new Document("$avg", "$age")).append("max", new Document("$max", "$age")), null);

        List<Document> combined = merge.combine(List.of(
            new Document("_id", "pro").append("n", 2).append("avg__sum", 50).append("avg__n", 2).append("max", 30),
            new Document("_id", "pro").append("n", 1).append("avg__sum", 0).append("avg__n", 0).append("max", null),
            new Document("_id", "free").append("n", 4).append("avg__sum", 100).append("avg__n", 4).append("max", 40)));

        assertThat(combined).containsExactly(
            new Document("_id", "pro").append("n", 3).append("avg", 25.0).append("max", 30),
            new Document("_id", "free").append("n", 4).append("avg", 25.0).append("max", 40));
    }

    @Test
    void shouldRefuseFirstWithoutASortBecauseTheAnswerWouldDependOnTheLayout() {
        assertThatThrownBy(() -> AggregationSplit.of(List.of(
            new Document("$group", new Document("_id", "$plan").append("f", new Document("$first", "$name"))))))
            .isInstanceOf(RouterException.class).hasMessageContaining("$sort");
    }

    @Test
    void shouldNameTheStageTheRouterCannotRun() {
        assertThatThrownBy(() -> AggregationSplit.of(List.of(new Document("$match", new Document()),
            new Document("$lookup", new Document("from", "x")))))
            .hasMessageContaining("pipeline[1]").hasMessageContaining("$lookup");
        assertThatThrownBy(() -> AggregationSplit.of(List.of(new Document("$limit", "ten"))))
            .hasMessageContaining("pipeline[0]");
    }
}
