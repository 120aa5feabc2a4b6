package io.shardline.router;

import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Random;

import org.bson.Document;

import io.shardline.router.RouterProjectionDistinctIT.DataGenerator;

/**
 * Random queries over {@link DataGenerator}'s documents for {@link RouterMixedDifferentialIT}: finds with filters, sorts
 * on fields of every type, projections, skip and limit; counts; distinct; and pipelines of {@code $match},
 * {@code $project}, {@code $sort}, {@code $group} with every accumulator the router takes, {@code $skip},
 * {@code $limit} and {@code $count}. See the test's class comment for what they avoid.
 */
final class DifferentialQueries {

    private static final List<String> TENANTS = List.of("acme", "bravo", "cyan", "delta");
    private static final List<String> NAMES = List.of("ann", "Ann", "Zoë", "ångström", "名前", "emoji 😀", "e\u0301", "é", "");
    private static final List<String> FIND_SORTS = List.of("name", "age", "active", "details", "details.code", "profile",
        "profile.city", "tags", "items.sku", "items.qty", "roles", "details.level", "nothing");
    private static final List<String> DISTINCT_KEYS = List.of("active", "age", "tags", "name", "profile.city", "items.sku",
        "items.qty", "roles", "nothing", "profile.langs", "profile.score", "w");
    /** Fields a pipeline {@code $sort} may use: the engine's aggregation sort orders their values as MongoDB does. */
    private static final List<String> PIPELINE_SORTS = List.of("at", "name", "age", "w", "_id");
    private static final List<Object> GROUP_IDS = java.util.Arrays.asList("$name", "$active", "$age", null, "$profile.city",
        new Document("n", "$name").append("a", "$active"));
    private static final List<String> OPERANDS = List.of("$age", "$profile.score", "$w", "$roles", "$tags", "$name", "$details",
        "$active", "$at", "$nothing");
    /**
     * {@code $min}/{@code $max} operands: no field holding arrays or documents with arrays, which the engine compares
     * unlike MongoDB; scalars of mixed types.
     */
    private static final List<String> EXTREME_OPERANDS = List.of("$age", "$profile.score", "$profile.city", "$w", "$name",
        "$active", "$at", "$nothing");
    /** {@code $avg} operands: no field where decimals mix with other numbers (the engine averages them to a double). */
    private static final List<String> AVG_OPERANDS = List.of("$w", "$roles", "$tags", "$name", "$active", "$at", "$nothing");
    private static final List<String> ORDERED_OPERANDS = List.of("$_id", "$name", "$age", "$tags", "$roles", "$details");

    private DifferentialQueries() {
    }

    static DifferentialCase next(Random random) {
        String tenant = TENANTS.get(random.nextInt(TENANTS.size()));
        List<Document> clauses = clauses(random);
        int kind = random.nextInt(10);
        if (kind < 4) {
            return find(random, tenant, clauses);
        }
        if (kind == 4) {
            return new DifferentialCase(DifferentialCase.Kind.COUNT, tenant, clauses, null, null, 0, 0, null, List.of());
        }
        if (kind == 5) {
            return new DifferentialCase(DifferentialCase.Kind.DISTINCT, tenant, clauses, null, null, 0, 0,
                DISTINCT_KEYS.get(random.nextInt(DISTINCT_KEYS.size())), List.of());
        }
        return new DifferentialCase(DifferentialCase.Kind.AGGREGATE, tenant, clauses, null, null, 0, 0, null, stages(random));
    }

    private static List<Document> clauses(Random random) {
        List<Document> clauses = new ArrayList<>();
        for (int n = random.nextInt(4); n > 0; n--) {
            clauses.add(clause(random));
        }
        return clauses;
    }

    private static Document clause(Random random) {
        return switch (random.nextInt(16)) {
            case 0 -> new Document("active", random.nextInt(3) == 0 ? null : random.nextBoolean());
            case 1 -> new Document("active", new Document("$exists", random.nextBoolean()));
            case 2 -> new Document("age", new Document("$gte", 20 + random.nextInt(40)));
            case 3 -> new Document("age", new Document("$lt", 20 + random.nextInt(40)));
            case 4 -> new Document("name", new Document("$in", List.of(name(random), name(random))));
            case 5 -> new Document("tags", random.nextBoolean() ? null : "solo");
            case 6 -> new Document("details.code", random.nextBoolean() ? null : "c" + random.nextInt(3));
            case 7 -> new Document("items.sku", "sku-" + random.nextInt(6));
            case 8 -> new Document("profile.city", name(random));
            case 9 -> new Document("at", new Document("$lt", new Date(DataGenerator.EPOCH + random.nextInt(360) * 1000L)));
            case 10 -> new Document("name", new Document("$ne", name(random)));
            case 11 -> new Document("w", new Document(random.nextBoolean() ? "$gt" : "$lte", random.nextInt(8) - 2));
            case 12 -> new Document("$or", List.of(new Document("name", name(random)), new Document("age", new Document("$lt", 30))));
            case 13 -> new Document("tags", new Document("$nin", List.of("solo", name(random))));
            case 14 -> new Document("w", new Document("$in", java.util.Arrays.asList(3, 2.5, "x", null)));
            default -> new Document("roles", "r" + random.nextInt(5));
        };
    }

    private static String name(Random random) {
        return NAMES.get(random.nextInt(NAMES.size()));
    }

    private static DifferentialCase find(Random random, String tenant, List<Document> clauses) {
        Document sort = null;
        int skip = 0;
        int limit = 0;
        if (random.nextInt(5) > 0) {
            sort = new Document();
            for (int n = random.nextInt(3); n > 0; n--) {
                String path = FIND_SORTS.get(random.nextInt(FIND_SORTS.size()));
                if (sort.keySet().stream().noneMatch(other -> ProjectionGenerator.overlap(other, path))) {
                    sort.put(path, direction(random));
                }
            }
            sort.put(random.nextBoolean() ? "_id" : "at", direction(random));
            skip = random.nextInt(3) == 0 ? random.nextInt(15) : 0;
            limit = random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(40);
        }
        return new DifferentialCase(DifferentialCase.Kind.FIND, tenant, clauses, sort, ProjectionGenerator.projection(random),
            skip, limit, null, List.of());
    }

    private static int direction(Random random) {
        return random.nextBoolean() ? 1 : -1;
    }

    private static List<Document> stages(Random random) {
        List<Document> stages = new ArrayList<>();
        if (random.nextInt(5) == 0) {
            stages.add(new Document("$project", new Document("name", 1).append("age", 1).append("active", 1).append("roles", 1)
                .append("tags", 1).append("at", 1).append("details", 1)));
        }
        switch (random.nextInt(6)) {
            case 0 -> {
                stages.add(new Document("$sort", pipelineSort(random)));
                if (random.nextInt(3) == 0) {
                    // After the sort: the router runs this match on the merged documents.
                    stages.add(new Document("$match", clause(random)));
                }
                if (random.nextBoolean()) {
                    stages.add(new Document("$skip", random.nextInt(20)));
                }
                if (random.nextBoolean()) {
                    stages.add(new Document("$limit", 1 + random.nextInt(30)));
                }
                if (random.nextInt(4) == 0 && stages.get(stages.size() - 1).get("$sort") == null) {
                    // After a skip or limit: the router runs this match itself, or refuses it where it meets an array.
                    stages.add(new Document("$match", clause(random)));
                }
                if (random.nextBoolean()) {
                    stages.add(new Document("$project", new Document("name", 1).append("age", 1).append("tags", 1)));
                }
            }
            case 1 -> stages.add(new Document("$count", "total"));
            default -> group(random, stages);
        }
        return stages;
    }

    private static Document pipelineSort(Random random) {
        String field = PIPELINE_SORTS.get(random.nextInt(PIPELINE_SORTS.size()));
        Document sort = new Document(field, direction(random));
        if (!field.equals("_id")) {
            sort.append("_id", direction(random));
        }
        return sort;
    }

    private static void group(Random random, List<Document> stages) {
        boolean sorted = random.nextBoolean();
        if (sorted) {
            stages.add(new Document("$sort", pipelineSort(random)));
        }
        Document group = new Document("_id", GROUP_IDS.get(random.nextInt(GROUP_IDS.size())))
            .append("n", new Document("$sum", 1));
        if (random.nextBoolean()) {
            group.append("c", new Document("$count", new Document()));
        }
        List<String> operators = new ArrayList<>(List.of("$sum", "$avg", "$min", "$max"));
        if (sorted) {
            operators.addAll(List.of("$first", "$last"));
        }
        for (int n = 1 + random.nextInt(4); n > 0; n--) {
            String operator = operators.get(random.nextInt(operators.size()));
            List<String> operands = switch (operator) {
                case "$first", "$last" -> ORDERED_OPERANDS;
                case "$avg" -> AVG_OPERANDS;
                case "$min", "$max" -> EXTREME_OPERANDS;
                default -> OPERANDS;
            };
            group.append("a" + n, new Document(operator, operands.get(random.nextInt(operands.size()))));
        }
        stages.add(new Document("$group", group));
        if (random.nextInt(3) == 0) {
            stages.add(new Document("$match", switch (random.nextInt(4)) {
                case 0 -> new Document("_id", new Document("$ne", null));
                case 1 -> new Document("$or", List.of(new Document("n", new Document("$lt", 3)), new Document("_id", null)));
                case 2 -> new Document("a1", new Document("$exists", random.nextBoolean()));
                default -> new Document("n", new Document("$gte", 1 + random.nextInt(4)));
            }));
        }
        switch (random.nextInt(4)) {
            case 0 -> stages.add(new Document("$count", "groups"));
            case 1 -> {
                stages.add(new Document("$sort", random.nextBoolean() ? new Document("_id", direction(random))
                    : new Document("n", direction(random)).append("_id", 1)));
                if (random.nextBoolean()) {
                    stages.add(new Document("$skip", random.nextInt(4)));
                }
                if (random.nextBoolean()) {
                    stages.add(new Document("$limit", 1 + random.nextInt(5)));
                }
            }
            default -> { }
        }
        if (random.nextInt(6) == 0 && stages.stream().noneMatch(s -> s.containsKey("$count"))) {
            // A second group: the router runs it on the finished first one.
            stages.add(new Document("$group", new Document("_id", null).append("groups", new Document("$sum", 1))
                .append("total", new Document("$sum", "$n")).append("avg", new Document("$avg", "$n"))
                .append("low", new Document("$min", "$_id")).append("high", new Document("$max", "$_id"))));
            return;
        }
        if (random.nextInt(3) == 0 && stages.stream().noneMatch(s -> s.containsKey("$count"))) {
            stages.add(new Document("$project", new Document("_id", 0).append("key", "$_id").append("n", 1).append("a1", 1)));
        }
    }
}
