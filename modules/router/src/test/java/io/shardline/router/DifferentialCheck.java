package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.bson.BsonValue;
import org.bson.Document;

import com.mongodb.client.FindIterable;
import com.mongodb.client.MongoCollection;

import io.shardline.bson.ValueOrder;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.RouterException;
import io.shardline.router.internal.ReadPath;

/**
 * Runs a {@link DifferentialCase} through the router and on the unsharded reference collection, and says how the
 * answers differ; shrinks a failing case to a smaller one that still fails the same way.
 */
final class DifferentialCheck {

    private final QueryPath router;
    private final MongoCollection<Document> reference;
    private int refusals;

    DifferentialCheck(ShardRouter router, MongoCollection<Document> reference) {
        this(QueryPath.library(router), reference);
    }

    DifferentialCheck(QueryPath router, MongoCollection<Document> reference) {
        this.router = router;
        this.reference = reference;
    }

    /** Null when the router answers as the reference does, or refuses what it must; otherwise what differs. */
    String difference(String namespace, DifferentialCase query) {
        String refusal = expectedRefusal(query);
        try {
            if (refusal != null) {
                return "answered where a refusal naming " + refusal + " was expected: " + run(namespace, query);
            }
            return compare(namespace, query);
        } catch (RouterException e) {
            if (refusal == null && e.kind() == RouterException.Kind.BAD_REQUEST && routerMatch(query)) {
                // A $match the router runs itself (after a $skip, $limit or $group) is refused where it meets an array.
                refusal = "$match on '";
            }
            if (refusal != null && e.kind() == RouterException.Kind.BAD_REQUEST && e.getMessage().contains(refusal)) {
                refusals++;
                return null;
            }
            return "failed: " + e.kind() + " " + e.getMessage();
        } catch (AssertionError e) {
            return "differs: " + e.getMessage();
        } catch (RuntimeException e) {
            return "error: " + e;
        }
    }

    /** The smallest case reached by dropping parts of {@code query} one at a time while it fails the same way. */
    DifferentialCase shrink(String namespace, DifferentialCase query, String failure) {
        String kind = failure.substring(0, failure.indexOf(':'));
        DifferentialCase current = query;
        boolean smaller = true;
        while (smaller) {
            smaller = false;
            for (DifferentialCase candidate : current.smaller()) {
                String other = difference(namespace, candidate);
                if (other != null && other.startsWith(kind)) {
                    current = candidate;
                    smaller = true;
                    break;
                }
            }
        }
        return current;
    }

    /** How many queries the router refused as it must. */
    int refusals() {
        return refusals;
    }

    /** Whether a $match of the pipeline comes after a $skip, $limit or $group, where the router runs it. */
    private static boolean routerMatch(DifferentialCase query) {
        boolean atRouter = false;
        for (Document stage : query.stages()) {
            if (stage.containsKey("$skip") || stage.containsKey("$limit") || stage.containsKey("$group")) {
                atRouter = true;
            } else if (atRouter && stage.containsKey("$match")) {
                return true;
            }
        }
        return false;
    }

    private static String expectedRefusal(DifferentialCase query) {
        if (query.kind() == DifferentialCase.Kind.FIND) {
            String field = ProjectionGenerator.refusedField(query.projection(), query.sort() == null ? new Document() : query.sort());
            return field == null ? null : "projection." + field;
        }
        return null;
    }

    private Object run(String namespace, DifferentialCase query) {
        return switch (query.kind()) {
            case FIND -> router.find(query.tenant(), namespace, request(query));
            case COUNT -> router.count(query.tenant(), namespace, query.filter());
            case DISTINCT -> router.distinct(query.tenant(), namespace, query.key(), query.filter());
            case AGGREGATE -> router.aggregate(query.tenant(), namespace, query.pipeline());
        };
    }

    private static FindRequest request(DifferentialCase query) {
        return new FindRequest(query.filter(), query.sort(), query.skip(), query.limit(), query.projection(), false);
    }

    private String compare(String namespace, DifferentialCase query) {
        Document scoped = scoped(query);
        switch (query.kind()) {
            case FIND -> {
                FindIterable<Document> find = reference.find(scoped).skip(query.skip()).limit(query.limit()).projection(query.projection());
                if (query.sort() != null) {
                    find.sort(query.sort());
                }
                List<Document> expected = find.into(new ArrayList<>());
                List<Document> actual = router.find(query.tenant(), namespace, request(query));
                if (query.sort() == null) {
                    assertThat(actual).containsExactlyInAnyOrderElementsOf(expected);
                } else {
                    assertThat(actual).containsExactlyElementsOf(expected);
                }
            }
            case COUNT -> assertThat(router.count(query.tenant(), namespace, query.filter())).isEqualTo(reference.countDocuments(scoped));
            case DISTINCT -> {
                List<Object> expected = new ArrayList<>();
                for (BsonValue value : reference.distinct(query.key(), scoped, BsonValue.class)) {
                    expected.add(ReadPath.toJava(value));
                }
                List<Object> actual = router.distinct(query.tenant(), namespace, query.key(), query.filter());
                assertThat(actual).as("router %s, reference %s", actual, expected).hasSameSizeAs(expected);
                assertThat(identities(actual)).as("router %s, reference %s", actual, expected).isEqualTo(identities(expected));
            }
            case AGGREGATE -> {
                List<Document> referencePipeline = new ArrayList<>();
                referencePipeline.add(new Document("$match", new Document("tenantId", query.tenant())));
                // The engine lacks MongoDB 5's $count accumulator; {$sum: 1} is its definition.
                referencePipeline.addAll(Document.parse(new Document("p", query.pipeline()).toJson()
                    .replace("{\"$count\": {}}", "{\"$sum\": 1}")).getList("p", Document.class));
                Set<String> byValue = numbersByValue(query.stages());
                List<Document> expected = reference.aggregate(referencePipeline).map(d -> byValue(d, byValue)).into(new ArrayList<>());
                List<Document> actual = router.aggregate(query.tenant(), namespace, query.pipeline())
                    .stream().map(d -> byValue(d, byValue)).toList();
                if (ordered(query.stages())) {
                    assertThat(actual).containsExactlyElementsOf(expected);
                } else {
                    assertThat(actual).containsExactlyInAnyOrderElementsOf(expected);
                }
            }
            default -> throw new IllegalStateException(query.kind().name());
        }
        return null;
    }

    /**
     * The output fields whose numbers are compared by value, not by type: a group key ({@code _id}, projected as
     * {@code key}) and a {@code $min} or {@code $max}. Of equal numbers of different types ({@code 29}, {@code 29L},
     * {@code 29.0}) these hold the one their group met first, which depends on the order documents reach it: MongoDB
     * promises none, and a shard and the reference meet them in different orders.
     */
    private static Set<String> numbersByValue(List<Document> stages) {
        Set<String> fields = new java.util.HashSet<>(Set.of("_id", "key"));
        for (Document stage : stages) {
            Document group = stage.get("$group", Document.class);
            if (group != null) {
                group.forEach((field, spec) -> {
                    if (spec instanceof Document accumulator && (accumulator.containsKey("$min") || accumulator.containsKey("$max"))) {
                        fields.add(field);
                    }
                });
            }
        }
        return fields;
    }

    private static Document byValue(Document document, Set<String> fields) {
        Document copy = new Document();
        document.forEach((field, value) -> copy.put(field, fields.contains(field) ? byValue(value) : withoutTrailingZeros(value)));
        return copy;
    }

    /**
     * Decimals without trailing zeros: a sum of decimals and doubles is a decimal whose scale neither the engine
     * ({@code 218.0}: the double's own digits) nor the router ({@code 218}) gives as MongoDB does ({@code 218.000000000000}:
     * the doubles rounded to 15 digits); the three are one value, and the test compares the value.
     */
    private static Object withoutTrailingZeros(Object value) {
        if (value instanceof org.bson.types.Decimal128 decimal && decimal.isFinite()) {
            return new org.bson.types.Decimal128(decimal.bigDecimalValue().stripTrailingZeros());
        }
        if (value instanceof Document document) {
            Document copy = new Document();
            document.forEach((field, inner) -> copy.put(field, withoutTrailingZeros(inner)));
            return copy;
        }
        if (value instanceof List<?> list) {
            return list.stream().map(DifferentialCheck::withoutTrailingZeros).toList();
        }
        return value;
    }

    private static Object byValue(Object value) {
        if (value instanceof org.bson.types.Decimal128 decimal) {
            return decimal.bigDecimalValue().doubleValue();
        }
        if (value instanceof Number number) {
            return number.doubleValue();
        }
        if (value instanceof Document document) {
            Document copy = new Document();
            document.forEach((field, inner) -> copy.put(field, byValue(inner)));
            return copy;
        }
        if (value instanceof List<?> list) {
            return list.stream().map(DifferentialCheck::byValue).toList();
        }
        return value;
    }

    /** Whether the pipeline's output order is defined: it ends in {@code $count}, or a {@code $sort} comes after every {@code $group}. */
    private static boolean ordered(List<Document> stages) {
        boolean ordered = false;
        for (Document stage : stages) {
            if (stage.containsKey("$sort") || stage.containsKey("$count")) {
                ordered = true;
            } else if (stage.containsKey("$group")) {
                ordered = false;
            }
        }
        return ordered;
    }

    private Document scoped(DifferentialCase query) {
        Document filter = query.filter();
        Document tenant = new Document("tenantId", query.tenant());
        return filter.isEmpty() ? tenant : new Document("$and", List.of(tenant, filter));
    }

    private static Set<Object> identities(List<Object> values) {
        Set<Object> identities = new TreeSet<>(ValueOrder.INSTANCE);
        identities.addAll(values);
        return identities;
    }
}
