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

        // A $group's output has no order of its own; the router's comes out by group key.
        assertThat(combined).containsExactly(
            new Document("_id", "free").append("n", 4).append("avg", 25.0).append("max", 40),
            new Document("_id", "pro").append("n", 3).append("avg", 25.0).append("max", 30));
    }

    @Test
    void shouldMergeGroupsMongoDbHoldsEqualAndTakeMinAndMaxInBsonOrder() {
        GroupMerge merge = new GroupMerge(new Document("_id", "$profile").append("min", new Document("$min", "$v"))
            .append("max", new Document("$max", "$v")), null);

        List<Document> combined = merge.combine(List.of(
            new Document("_id", new Document("tier", 1)).append("min", 5).append("max", List.of(1)),
            new Document("_id", new Document("tier", 1.0)).append("min", "a").append("max", new Document("x", 1)),
            new Document("_id", new Document("tier", 1L)).append("min", null).append("max", "z")));

        assertThat(combined).as("{tier: 1}, {tier: 1.0} and {tier: 1L} are one group").hasSize(1);
        assertThat(combined.get(0).get("min")).as("numbers before strings; null is no value").isEqualTo(5);
        assertThat(combined.get(0).get("max")).as("arrays after documents after strings").isEqualTo(List.of(1));
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

    @Test
    void shouldSumAndAverageAsMongoDbDoesAcrossNumberTypes() {
        assertThat(Numbers.sum(List.of(1, 2, "x", true))).isEqualTo(3);
        assertThat(Numbers.sum(List.of(1, 2L))).isEqualTo(3L);
        assertThat(Numbers.sum(List.of(1, 0.5))).isEqualTo(1.5);
        assertThat(Numbers.sum(List.of(1, org.bson.types.Decimal128.parse("0.25"), 0.5)))
            .isEqualTo(org.bson.types.Decimal128.parse("1.75"));
        assertThat(Numbers.average(10, 4)).isEqualTo(2.5);
        assertThat(Numbers.average(org.bson.types.Decimal128.parse("1"), 3)).isEqualTo(
            new org.bson.types.Decimal128(new java.math.BigDecimal(1).divide(new java.math.BigDecimal(3), java.math.MathContext.DECIMAL128)));
        assertThat(Numbers.average(0, 0)).as("no numbers: null").isNull();
        assertThat(Numbers.sum(List.of(org.bson.types.Decimal128.parse("1"), Double.NaN))).isEqualTo(org.bson.types.Decimal128.NaN);
        assertThat(Numbers.sum(List.of(org.bson.types.Decimal128.POSITIVE_INFINITY, 2))).isEqualTo(org.bson.types.Decimal128.POSITIVE_INFINITY);
        assertThat(Numbers.average(org.bson.types.Decimal128.NaN, 2)).isEqualTo(org.bson.types.Decimal128.NaN);
    }

    @Test
    void shouldRunAMatchRightAfterTheSortOnTheShardsWhereArraysMatchByTheirElements() {
        AggregationSplit split = AggregationSplit.of(List.of(
            new Document("$sort", new Document("at", 1).append("_id", 1)),
            new Document("$match", new Document("items.sku", "sku-5")),
            new Document("$limit", 3)));

        assertThat(split.shardStages()).containsExactly(
            new Document("$sort", new Document("at", 1).append("_id", 1)),
            new Document("$match", new Document("items.sku", "sku-5")),
            new Document("$limit", 3));
        assertThat(split.routerStages()).containsExactly(new Document("$limit", 3));
        assertThat(split.mergeSort()).isEqualTo(new Document("at", 1).append("_id", 1));
    }

    @Test
    void shouldLeaveAMatchAfterASkipToTheRouter() {
        AggregationSplit split = AggregationSplit.of(List.of(
            new Document("$sort", new Document("_id", 1)), new Document("$skip", 2),
            new Document("$match", new Document("a", 1))));

        assertThat(split.shardStages()).containsExactly(new Document("$sort", new Document("_id", 1)));
        assertThat(split.routerStages()).containsExactly(new Document("$skip", 2), new Document("$match", new Document("a", 1)));
    }

    @Test
    void shouldRefuseAMatchAtTheRouterOnAPathThatMeetsAnArray() {
        List<Document> documents = List.of(new Document("_id", 1).append("items", List.of(new Document("sku", "sku-5"))),
            new Document("_id", 2).append("roles", List.of("r4")));

        assertThatThrownBy(() -> RouterStages.apply(documents, List.of(new Document("$match", new Document("items.sku", "sku-5")))))
            .isInstanceOf(RouterException.class).hasMessageContaining("$match on 'items.sku' meets an array")
            .satisfies(e -> assertThat(((RouterException) e).kind()).isEqualTo(RouterException.Kind.BAD_REQUEST));
        assertThatThrownBy(() -> RouterStages.apply(documents, List.of(new Document("$match", new Document("roles", "r4")))))
            .isInstanceOf(RouterException.class).hasMessageContaining("$match on 'roles' meets an array");
        assertThat(RouterStages.apply(List.of(new Document("_id", 1).append("n", 3)),
            List.of(new Document("$match", new Document("n", new Document("$gte", 2)))))).hasSize(1);
    }
}
