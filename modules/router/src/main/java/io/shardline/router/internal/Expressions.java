package io.shardline.router.internal;

import java.util.Map;

import org.bson.Document;

import io.shardline.router.api.NotSupportedException;
import io.shardline.router.api.RouterException;

/**
 * The expressions the router evaluates itself when it finishes a pipeline: field paths ({@code "$a.b"}), constants,
 * and documents of those (a compound group key).
 */
final class Expressions {

    private Expressions() {
    }

    static Object evaluate(Object expression, Document document) {
        if (expression instanceof String path && path.startsWith("$")) {
            if (path.startsWith("$$")) {
                throw new NotSupportedException("pipeline: variables like " + path + " are not supported by the router");
            }
            return DocumentOrder.value(document, path.substring(1));
        }
        if (expression instanceof Map<?, ?> map) {
            Document result = new Document();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                String key = String.valueOf(entry.getKey());
                if (key.startsWith("$")) {
                    throw new RouterException(RouterException.Kind.BAD_REQUEST,
                        "pipeline: the operator " + key + " cannot be evaluated by the router after a $group; use it before the $group");
                }
                result.put(key, evaluate(entry.getValue(), document));
            }
            return result;
        }
        return expression;
    }
}
