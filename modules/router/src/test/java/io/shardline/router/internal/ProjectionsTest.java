package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.shardline.router.api.RouterException;

class ProjectionsTest {

    private static Document doc(String json) {
        return Document.parse(json);
    }

    @Test
    void shouldApplyAWholeProjectionAtTheRouterForATransactionsOwnDocuments() {
        Document stored = doc("{_id: 1, name: 'ann', plan: {tier: 'pro', seats: 3}, tags: ['a', 'b', 'c'], secret: 's'}");

        assertThat(Projections.atRouter(doc("{name: 1, 'plan.tier': 1}")).apply(new Document(stored)))
            .isEqualTo(doc("{_id: 1, name: 'ann', plan: {tier: 'pro'}}"));
        assertThat(Projections.atRouter(doc("{name: 1, _id: 0}")).apply(new Document(stored))).isEqualTo(doc("{name: 'ann'}"));
        assertThat(Projections.atRouter(doc("{secret: 0, _id: 0, 'plan.seats': 0}")).apply(new Document(stored)))
            .isEqualTo(doc("{name: 'ann', plan: {tier: 'pro'}, tags: ['a', 'b', 'c']}"));
        assertThat(Projections.atRouter(doc("{tags: {$slice: -2}, name: 1}")).apply(new Document(stored)))
            .isEqualTo(doc("{_id: 1, name: 'ann', tags: ['b', 'c']}"));
        assertThat(Projections.atRouter(null).apply(new Document(stored))).isEqualTo(stored);
        assertThatThrownBy(() -> Projections.atRouter(doc("{tags: {$elemMatch: {$eq: 'a'}}}"))).isInstanceOf(RouterException.class)
            .hasMessageContaining("projection.tags");
    }

    @Test
    void shouldAskShardsForSortFieldsAnInclusionLacksAndStripThemAfterwards() {
        Projections.Plan plan = Projections.plan(new Document("name", 1), List.of("age", "_id"));

        assertThat(plan.forShards()).isEqualTo(new Document("name", 1).append("age", 1));
        Document merged = new Document("_id", 1).append("name", "a").append("age", 3);
        assertThat(plan.finish(merged)).isEqualTo(new Document("_id", 1).append("name", "a"));
    }

    @Test
    void shouldSendTheSortPathInsteadOfItsSubPathAndProjectTheSubPathAtTheRouter() {
        Projections.Plan plan = Projections.plan(doc("{at: 1, 'details.code': 1}"), List.of("at", "details", "_id"));

        assertThat(plan.forShards()).isEqualTo(doc("{at: 1, details: 1}"));
        assertThat(plan.finish(doc("{_id: 1, at: 5, details: {code: 'x', level: 2}, other: 1}")))
            .isEqualTo(doc("{_id: 1, at: 5, details: {code: 'x'}}"));
        assertThat(plan.finish(doc("{_id: 2, at: 5, details: {level: 2}}"))).isEqualTo(doc("{_id: 2, at: 5, details: {}}"));
        assertThat(plan.finish(doc("{_id: 3, details: 'scalar'}"))).isEqualTo(doc("{_id: 3}"));
        assertThat(plan.finish(doc("{_id: 4, details: null}"))).isEqualTo(doc("{_id: 4}"));
    }

    @Test
    void shouldProjectASubPathThroughArraysAsMongoDbDoes() {
        Projections.Plan plan = Projections.plan(doc("{'details.code': 1, _id: 0}"), List.of("details"));

        // Documents keep only the sub-path, nested arrays are traversed, scalars in arrays are dropped.
        assertThat(plan.finish(doc("{_id: 1, details: [{code: 1, x: 2}, 7, {x: 3}, [{code: 4, y: 1}, 5], []]}")))
            .isEqualTo(doc("{details: [{code: 1}, {}, [{code: 4}], []]}"));
        assertThat(plan.finish(doc("{_id: 2, details: [{code: {a: [1, {b: 2}]}}]}")))
            .isEqualTo(doc("{details: [{code: {a: [1, {b: 2}]}}]}"));
    }

    @Test
    void shouldAddNothingWhenAnIncludedPathCoversTheSortPath() {
        Document projection = doc("{details: 1, name: 1}");
        Projections.Plan plan = Projections.plan(projection, List.of("details.code", "name", "_id"));

        assertThat(plan.forShards()).isEqualTo(projection);
        assertThat(plan.trim()).isNull();
    }

    @Test
    void shouldAddTheWidestOfSeveralNestedSortPathsOnce() {
        Projections.Plan plan = Projections.plan(doc("{name: 1}"), List.of("a.b", "a", "a.c"));

        assertThat(plan.forShards()).isEqualTo(doc("{name: 1, a: 1}"));
        assertThat(plan.finish(doc("{_id: 1, name: 'n', a: {b: 1}}"))).isEqualTo(doc("{_id: 1, name: 'n'}"));
    }

    @Test
    void shouldKeepAnExcludedSortPathOrItsRelativesOnShardsAndRemoveThemAtTheRouter() {
        Projections.Plan subPath = Projections.plan(doc("{'details.code': 0, plan: 0}"), List.of("details", "_id"));
        assertThat(subPath.forShards()).isEqualTo(doc("{plan: 0}").append(ShardKeyField.NAME, 0).append(TxnIntents.FIELD, 0));
        assertThat(subPath.finish(doc("{_id: 1, details: [{code: 1, x: 2}, 7, [{code: 3}]], n: {code: 1}}")))
            .isEqualTo(doc("{_id: 1, details: [{x: 2}, 7, [{}]], n: {code: 1}}"));

        Projections.Plan superPath = Projections.plan(doc("{details: 0}"), List.of("details.code"));
        assertThat(superPath.forShards()).isEqualTo(new Document(ShardKeyField.NAME, 0).append(TxnIntents.FIELD, 0));
        assertThat(superPath.finish(doc("{_id: 1, details: {code: 1}, a: 1}"))).isEqualTo(doc("{_id: 1, a: 1}"));

        Projections.Plan untouched = Projections.plan(doc("{other: 0}"), List.of("details"));
        assertThat(untouched.forShards()).isEqualTo(doc("{other: 0}").append(ShardKeyField.NAME, 0).append(TxnIntents.FIELD, 0));
        assertThat(untouched.trim()).isNull();
    }

    @Test
    void shouldReturnAnExcludedIdToTheMergeAndRemoveItAfterwards() {
        Projections.Plan inclusion = Projections.plan(doc("{_id: 0, name: 1}"), List.of("name", "_id"));
        assertThat(inclusion.forShards()).isEqualTo(doc("{name: 1}"));
        assertThat(inclusion.finish(doc("{_id: 1, name: 'a'}"))).isEqualTo(doc("{name: 'a'}"));

        Projections.Plan exclusion = Projections.plan(doc("{_id: 0}"), List.of("_id"));
        assertThat(exclusion.forShards()).isEqualTo(new Document(ShardKeyField.NAME, 0).append(TxnIntents.FIELD, 0));
        assertThat(exclusion.finish(doc("{_id: 1, name: 'a'}"))).isEqualTo(doc("{name: 'a'}"));

        Projections.Plan unsorted = Projections.plan(doc("{_id: 0, name: 1}"), List.of("name"));
        assertThat(unsorted.forShards()).isEqualTo(doc("{_id: 0, name: 1}"));
        assertThat(unsorted.trim()).isNull();
    }

    @Test
    void shouldTreatOnlyIdIncludedAsAnInclusion() {
        Projections.Plan plan = Projections.plan(doc("{_id: 1}"), List.of("age"));

        assertThat(plan.forShards()).isEqualTo(doc("{_id: 1, age: 1}"));
        assertThat(plan.finish(doc("{_id: 1, age: 3}"))).isEqualTo(doc("{_id: 1}"));
    }

    @Test
    void shouldSliceAtTheRouterFromTheWholeArray() {
        Projections.Plan inclusion = Projections.plan(doc("{roles: {$slice: 1}, name: 1}"), List.of("roles", "age"));
        assertThat(inclusion.forShards()).isEqualTo(doc("{roles: 1, name: 1, age: 1}"));
        assertThat(inclusion.finish(doc("{_id: 1, roles: [3, 1, 2], name: 'a', age: 4}")))
            .isEqualTo(doc("{_id: 1, roles: [3], name: 'a'}"));
        assertThat(inclusion.finish(doc("{_id: 2, roles: 'admin', age: 4}"))).isEqualTo(doc("{_id: 2, roles: 'admin'}"));

        Projections.Plan alone = Projections.plan(doc("{roles: {$slice: [-2, 1]}}"), List.of("name"));
        assertThat(alone.forShards()).isEqualTo(new Document(ShardKeyField.NAME, 0).append(TxnIntents.FIELD, 0));
        assertThat(alone.finish(doc("{_id: 1, roles: [1, 2, 3], name: 'a'}"))).isEqualTo(doc("{_id: 1, roles: [2], name: 'a'}"));
    }

    @Test
    void shouldSliceAsMongoDbDoes() {
        List<Integer> five = Arrays.asList(0, 1, 2, 3, 4);
        assertThat(ProjectionTrim.slice(five, 2)).isEqualTo(List.of(0, 1));
        assertThat(ProjectionTrim.slice(five, -2)).isEqualTo(List.of(3, 4));
        assertThat(ProjectionTrim.slice(five, 0)).isEqualTo(List.of());
        assertThat(ProjectionTrim.slice(five, 9)).isEqualTo(five);
        assertThat(ProjectionTrim.slice(five, -9)).isEqualTo(five);
        assertThat(ProjectionTrim.slice(five, List.of(1, 2))).isEqualTo(List.of(1, 2));
        assertThat(ProjectionTrim.slice(five, List.of(-2, 5))).isEqualTo(List.of(3, 4));
        assertThat(ProjectionTrim.slice(five, List.of(-9, 2))).isEqualTo(List.of(0, 1));
        assertThat(ProjectionTrim.slice(five, List.of(7, 2))).isEqualTo(List.of());
        assertThat(ProjectionTrim.slice(five, List.of(3, Long.MAX_VALUE))).isEqualTo(List.of(3, 4));
        assertThat(ProjectionTrim.slice(new Document("a", 1), 1)).isEqualTo(new Document("a", 1));
    }

    @Test
    void shouldPassElemMatchOnAFieldThatIsNoSortPath() {
        Document projection = doc("{roles: {$elemMatch: {k: 1}}, name: 1}");
        Projections.Plan plan = Projections.plan(projection, List.of("age"));

        assertThat(plan.forShards()).isEqualTo(doc("{roles: {$elemMatch: {k: 1}}, name: 1, age: 1}"));
        assertThat(plan.finish(doc("{_id: 1, roles: [{k: 1}], name: 'a', age: 3}"))).isEqualTo(doc("{_id: 1, roles: [{k: 1}], name: 'a'}"));
    }

    @Test
    void shouldRefuseWhatItCannotAnswerExactlyNamingTheField() {
        assertRefused(doc("{x: '$name'}"), List.of(), "projection.x");
        assertRefused(doc("{a: {b: 1}}"), List.of(), "projection.a");
        assertRefused(doc("{score: {$meta: 'textScore'}}"), List.of(), "projection.score");
        assertRefused(doc("{'roles.$': 1}"), List.of(), "projection.roles.$");
        assertRefused(doc("{'a.b': {$slice: 1}}"), List.of(), "projection.a.b");
        assertRefused(doc("{roles: {$slice: 'x'}}"), List.of(), "projection.roles");
        assertRefused(doc("{roles: {$slice: [1, 0]}}"), List.of(), "projection.roles");
        assertRefused(doc("{roles: {$elemMatch: {k: 1}}}"), List.of("roles.k"), "projection.roles");
        assertRefused(doc("{a: 1, b: 0}"), List.of(), "projection.b");
        assertRefused(doc("{a: 1, 'a.b': 1}"), List.of(), "Path collision at a.b");
        assertRefused(doc("{'a..b': 1}"), List.of(), "projection.a..b");
    }

    private static void assertRefused(Document projection, List<String> sortPaths, String message) {
        assertThatThrownBy(() -> Projections.plan(projection, sortPaths)).isInstanceOf(RouterException.class)
            .hasMessageContaining(message)
            .satisfies(e -> assertThat(((RouterException) e).kind()).isEqualTo(RouterException.Kind.BAD_REQUEST));
    }

    @Test
    void shouldAlwaysHideTheStoredShardKeyAndAnyTransactionsIntent() {
        assertThat(Projections.plan(null, List.of()).forShards()).isEqualTo(new Document(ShardKeyField.NAME, 0).append(TxnIntents.FIELD, 0));
        assertThat(Projections.plan(null, List.of()).finish(new Document("_id", 1).append(ShardKeyField.NAME, "ab")))
            .isEqualTo(new Document("_id", 1));
        assertThat(Projections.plan(doc("{name: 1}"), List.of()).finish(doc("{_id: 1, name: 'a', _sk: 'ab'}")))
            .isEqualTo(doc("{_id: 1, name: 'a'}"));
        assertThat(Projections.plan(null, List.of()).finish(doc("{_id: 1, name: 'a', _tx: {id: 't1', op: 'LOCK'}}")))
            .isEqualTo(doc("{_id: 1, name: 'a'}"));
    }

    @Test
    void shouldLeaveTheMergedDocumentAsItWas() {
        Document merged = doc("{_id: 1, a: {b: 1, c: 2}}");
        Document before = Document.parse(merged.toJson());
        Projections.plan(doc("{'a.b': 1}"), List.of("a")).trim().apply(merged);

        assertThat(merged).isEqualTo(before);
        assertThat(new ArrayList<>(merged.keySet())).containsExactly("_id", "a");
    }
}
