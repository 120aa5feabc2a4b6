package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.bson.Document;

import io.shardline.bson.ValueOrder;
import io.shardline.router.api.NotSupportedException;
import io.shardline.router.api.RouterException;

/**
 * A {@code $group} run in two steps: each shard computes partial accumulators over its documents, and the router
 * combines the partials of every shard into the final groups. {@code $sum}, {@code $count}, {@code $min},
 * {@code $max} combine by themselves; {@code $avg} travels as a sum and a count of the values that are numbers;
 * {@code $first}/{@code $last} travel with the sort key of their document and need a {@code $sort} before the
 * {@code $group}, without which they would depend on how the data is spread.
 */
final class GroupMerge {

    private enum Kind { SUM, MIN, MAX, AVG, FIRST, LAST }

    private record Accumulator(String field, Kind kind, Object operand) {
    }

    private final Object idExpression;
    private final List<Accumulator> accumulators = new ArrayList<>();
    private final Document sortBefore;

    GroupMerge(Document group, Document sortBefore) {
        this.sortBefore = sortBefore;
        if (!group.containsKey("_id")) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "pipeline: $group needs an _id");
        }
        this.idExpression = group.get("_id");
        for (Map.Entry<String, Object> entry : group.entrySet()) {
            if (entry.getKey().equals("_id")) {
                continue;
            }
            if (!(entry.getValue() instanceof Document spec) || spec.size() != 1) {
                throw new RouterException(RouterException.Kind.BAD_REQUEST, "pipeline: $group." + entry.getKey() + " must be {<accumulator>: <expression>}");
            }
            String operator = spec.keySet().iterator().next();
            Object operand = spec.get(operator);
            Kind kind = switch (operator) {
                case "$sum" -> Kind.SUM;
                case "$count" -> Kind.SUM;
                case "$min" -> Kind.MIN;
                case "$max" -> Kind.MAX;
                case "$avg" -> Kind.AVG;
                case "$first" -> Kind.FIRST;
                case "$last" -> Kind.LAST;
                default -> throw new NotSupportedException(
                    "pipeline: $group." + entry.getKey() + ": accumulator " + operator + " is not supported by the router");
            };
            if (operator.equals("$count")) {
                operand = 1;
            }
            if ((kind == Kind.FIRST || kind == Kind.LAST) && sortBefore == null) {
                throw new RouterException(RouterException.Kind.BAD_REQUEST, "pipeline: $group." + entry.getKey() + ": " + operator
                    + " needs a $sort before the $group, or its answer would depend on how the data is spread over shards");
            }
            accumulators.add(new Accumulator(entry.getKey(), kind, operand));
        }
    }

    /** The {@code $group} each shard runs. */
    Document partialStage() {
        Document group = new Document("_id", idExpression);
        for (Accumulator acc : accumulators) {
            switch (acc.kind()) {
                case SUM -> group.put(acc.field(), new Document("$sum", acc.operand()));
                case MIN -> group.put(acc.field(), new Document("$min", acc.operand()));
                case MAX -> group.put(acc.field(), new Document("$max", acc.operand()));
                case AVG -> {
                    group.put(acc.field() + "__sum", new Document("$sum", acc.operand()));
                    // $avg averages the numbers only: a value is a number when it sorts after null and before every
                    // string (BSON order), which needs no $isNumber (not every shard has it).
                    group.put(acc.field() + "__n", new Document("$sum", new Document("$cond", java.util.Arrays.asList(
                        new Document("$and", java.util.Arrays.asList(
                            new Document("$gt", java.util.Arrays.asList(acc.operand(), null)),
                            new Document("$lt", java.util.Arrays.asList(acc.operand(), "")))), 1, 0))));
                }
                case FIRST, LAST -> {
                    String op = acc.kind() == Kind.FIRST ? "$first" : "$last";
                    group.put(acc.field(), new Document(op, acc.operand()));
                    group.put(acc.field() + "__key", new Document(op, sortKeyExpression()));
                }
            }
        }
        return new Document("$group", group);
    }

    private Document sortKeyExpression() {
        Document key = new Document();
        int i = 0;
        for (String path : sortBefore.keySet()) {
            key.put("k" + i++, "$" + path);
        }
        return key;
    }

    /** Combines the partial groups of every shard. */
    List<Document> combine(List<Document> partials) {
        // Group keys are one when MongoDB holds them equal: {a: 1} and {a: 1.0} are one group, as on one shard.
        Map<Object, List<Document>> byId = new TreeMap<>(ValueOrder.INSTANCE);
        for (Document partial : partials) {
            byId.computeIfAbsent(partial.get("_id"), k -> new ArrayList<>()).add(partial);
        }
        List<Document> groups = new ArrayList<>();
        for (Map.Entry<Object, List<Document>> entry : byId.entrySet()) {
            Document result = new Document("_id", entry.getKey());
            for (Accumulator acc : accumulators) {
                result.put(acc.field(), combine(acc, entry.getValue()));
            }
            groups.add(result);
        }
        return groups;
    }

    private Object combine(Accumulator acc, List<Document> parts) {
        switch (acc.kind()) {
            case SUM:
                return Numbers.sum(parts.stream().map(p -> p.get(acc.field())).toList());
            case MIN:
            case MAX: {
                Object best = null;
                for (Document part : parts) {
                    Object value = part.get(acc.field());
                    if (value == null) {
                        continue;
                    }
                    int cmp = best == null ? -1 : ValueOrder.INSTANCE.compare(value, best);
                    if (best == null || (acc.kind() == Kind.MIN ? cmp < 0 : cmp > 0)) {
                        best = value;
                    }
                }
                return best;
            }
            case AVG: {
                Object sum = Numbers.sum(parts.stream().map(p -> p.get(acc.field() + "__sum")).toList());
                long count = parts.stream().mapToLong(p -> ((Number) p.get(acc.field() + "__n")).longValue()).sum();
                return Numbers.average(sum, count);
            }
            default: {
                DocumentOrder order = new DocumentOrder(keyOrder());
                Document chosen = null;
                for (Document part : parts) {
                    Document key = (Document) part.get(acc.field() + "__key");
                    if (chosen == null) {
                        chosen = part;
                        continue;
                    }
                    int cmp = order.compare(key, (Document) chosen.get(acc.field() + "__key"));
                    if (acc.kind() == Kind.FIRST ? cmp < 0 : cmp > 0) {
                        chosen = part;
                    }
                }
                return chosen == null ? null : chosen.get(acc.field());
            }
        }
    }

    private Document keyOrder() {
        Document order = new Document();
        int i = 0;
        for (Object direction : sortBefore.values()) {
            order.put("k" + i++, direction);
        }
        return order;
    }
}
