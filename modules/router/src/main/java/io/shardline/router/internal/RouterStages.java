package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bson.Document;

import io.shardline.router.api.NotSupportedException;
import io.shardline.router.api.RouterException;

/** The stages of a pipeline that the router runs itself, on the merged results of the shards. */
final class RouterStages {

    private RouterStages() {
    }

    static List<Document> apply(List<Document> documents, List<Document> stages) {
        List<Document> current = documents;
        for (Document stage : stages) {
            String name = stage.keySet().iterator().next();
            Object spec = stage.get(name);
            current = switch (name) {
                case "$match" -> current.stream().filter(d -> SimpleMatcher.matches(d, (Document) spec)).toList();
                case "$sort" -> {
                    List<Document> sorted = new ArrayList<>(current);
                    sorted.sort(new DocumentOrder((Document) spec));
                    yield sorted;
                }
                case "$skip" -> current.subList(Math.min(current.size(), ((Number) spec).intValue()), current.size());
                case "$limit" -> current.subList(0, Math.min(current.size(), ((Number) spec).intValue()));
                case "$project" -> current.stream().map(d -> project(d, (Document) spec)).toList();
                case "$count" -> current.isEmpty() ? List.of() : List.of(new Document((String) spec, current.size()));
                case "$group" -> new GroupMerge((Document) spec, null).combine(
                    current.stream().map(d -> evaluateGroupInput(d, (Document) spec)).toList());
                default -> throw new NotSupportedException(
                    "pipeline: stage " + name + " is not supported by the router");
            };
        }
        return current;
    }

    /** A document seen as a one-document partial group, so a second {@code $group} can reuse the merge. */
    private static Document evaluateGroupInput(Document document, Document group) {
        Document partial = new Document("_id", Expressions.evaluate(group.get("_id"), document));
        for (Map.Entry<String, Object> entry : group.entrySet()) {
            if (entry.getKey().equals("_id")) {
                continue;
            }
            Document spec = (Document) entry.getValue();
            String operator = spec.keySet().iterator().next();
            Object value = operator.equals("$count") ? 1 : Expressions.evaluate(spec.get(operator), document);
            if (operator.equals("$avg")) {
                partial.put(entry.getKey() + "__sum", value instanceof Number ? value : 0);
                partial.put(entry.getKey() + "__n", value instanceof Number ? 1 : 0);
            } else {
                partial.put(entry.getKey(), value);
            }
        }
        return partial;
    }

    private static Document project(Document document, Document spec) {
        boolean inclusion = Projections.isInclusion(spec);
        Document result;
        if (inclusion) {
            result = new Document();
            if (!isZero(spec.get("_id")) && document.containsKey("_id")) {
                result.put("_id", document.get("_id"));
            }
            for (Map.Entry<String, Object> field : spec.entrySet()) {
                if (field.getKey().equals("_id") && !(field.getValue() instanceof String)) {
                    continue;
                }
                // A field path names where the value comes from: a null found there is kept, a missing one is not.
                boolean expression = field.getValue() instanceof String path && path.startsWith("$");
                String source = expression ? ((String) field.getValue()).substring(1) : field.getKey();
                Object value = expression ? Expressions.evaluate(field.getValue(), document) : DocumentOrder.value(document, source);
                if (value != null || exists(document, source)) {
                    result.put(field.getKey(), value);
                }
            }
        } else {
            result = new Document(document);
            spec.keySet().forEach(result::remove);
        }
        return result;
    }

    /** Whether {@code path} leads to a field of {@code document}, null or not. */
    static boolean exists(Document document, String path) {
        Object current = document;
        String[] segments = path.split("\\.");
        for (int i = 0; i < segments.length; i++) {
            if (!(current instanceof Map<?, ?> map) || !map.containsKey(segments[i])) {
                return false;
            }
            current = map.get(segments[i]);
        }
        return true;
    }

    private static boolean isZero(Object value) {
        return (value instanceof Number n && n.intValue() == 0) || Boolean.FALSE.equals(value);
    }
}
