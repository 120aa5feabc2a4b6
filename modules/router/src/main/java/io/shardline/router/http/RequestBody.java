package io.shardline.router.http;

import java.util.ArrayList;
import java.util.List;

import org.bson.Document;
import org.bson.json.JsonParseException;

import io.shardline.router.api.RouterException;

/** A request body in MongoDB extended JSON, read field by field with errors that name the field. */
final class RequestBody {

    private final Document body;
    /** What names this body's fields in errors: empty for a request's body, {@code operations[2].} for a part of it. */
    private final String path;

    private RequestBody(Document body) {
        this(body, "");
    }

    private RequestBody(Document body, String path) {
        this.body = body;
        this.path = path;
    }

    /** The document in {@code field}'s array at {@code index}, read as a body of its own whose errors name it. */
    RequestBody part(String field, int index, Document document) {
        return new RequestBody(document, path + field + "[" + index + "].");
    }

    /** A body as received: it must be UTF-8 (a malformed byte is refused, not replaced by U+FFFD and stored). */
    static RequestBody parse(byte[] bytes) {
        return parse(bytes == null ? null : utf8(bytes));
    }

    static String utf8(byte[] bytes) {
        java.nio.charset.CharsetDecoder decoder = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT).onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
        try {
            return decoder.decode(in).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "body: not valid UTF-8 (a malformed sequence at byte " + in.position() + ")", e);
        }
    }

    static RequestBody parse(String text) {
        if (text == null || text.isBlank()) {
            return new RequestBody(new Document());
        }
        // The JSON reader recurses per level: a body nested thousands deep would overflow its stack before any check.
        int depth = depth(text);
        if (depth > io.shardline.router.internal.RequestGuards.MAX_DEPTH + 2) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "body: nested " + depth + " levels deep; documents and filters may be nested "
                + io.shardline.router.internal.RequestGuards.MAX_DEPTH + " levels, as MongoDB allows");
        }
        try {
            return new RequestBody(Document.parse(text));
        } catch (JsonParseException | IllegalArgumentException | org.bson.BsonInvalidOperationException e) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "body: not a JSON object in MongoDB extended JSON: " + e.getMessage(), e);
        }
    }

    /** The deepest nesting of objects and arrays in a JSON text (brackets inside strings do not count). */
    static int depth(String text) {
        int depth = 0;
        int deepest = 0;
        boolean inString = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (inString) {
                if (c == '\\') {
                    i++;
                } else if (c == '"') {
                    inString = false;
                }
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                deepest = Math.max(deepest, ++depth);
            } else if (c == '}' || c == ']') {
                depth--;
            }
        }
        return deepest;
    }

    Document document(String field) {
        Object value = body.get(field);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Document document)) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, path + field + ": must be a document, was " + describe(value));
        }
        return document;
    }

    Document requiredDocument(String field) {
        Document document = document(field);
        if (document == null) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, path + field + ": is required");
        }
        return document;
    }

    int integer(String field, int defaultValue) {
        Object value = body.get(field);
        if (value == null) {
            return defaultValue;
        }
        if (!(value instanceof Number number) || number.doubleValue() != Math.rint(number.doubleValue())) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, path + field + ": must be an integer, was " + describe(value));
        }
        return number.intValue();
    }

    boolean bool(String field, boolean defaultValue) {
        Object value = body.get(field);
        if (value == null) {
            return defaultValue;
        }
        if (!(value instanceof Boolean bool)) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, path + field + ": must be true or false, was " + describe(value));
        }
        return bool;
    }

    /** The field's non-empty text, or {@code null} when the body has no such field. */
    String optionalString(String field) {
        return body.containsKey(field) ? string(field) : null;
    }

    String string(String field) {
        Object value = body.get(field);
        if (!(value instanceof String text) || text.isBlank()) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, path + field + ": a non-empty string is required");
        }
        return text;
    }

    List<Document> documents(String field) {
        Object value = body.get(field);
        if (!(value instanceof List<?> items) || items.isEmpty()) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, path + field + ": a non-empty array of documents is required");
        }
        List<Document> documents = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            if (!(items.get(i) instanceof Document document)) {
                throw new RouterException(RouterException.Kind.BAD_REQUEST, path + field + "[" + i + "]: must be a document");
            }
            documents.add(document);
        }
        return documents;
    }

    private static String describe(Object value) {
        return value.getClass().getSimpleName() + " " + value;
    }
}
