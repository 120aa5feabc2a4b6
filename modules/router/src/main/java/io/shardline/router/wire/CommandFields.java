package io.shardline.router.wire;

import java.util.ArrayList;
import java.util.List;

import org.bson.Document;

/** Typed reads of a command's fields; a field of the wrong type is a {@code TypeMismatch} naming it. */
final class CommandFields {

    private final String command;
    private final Document document;

    CommandFields(String command, Document document) {
        this.command = command;
        this.document = document;
    }

    /** The command document itself. */
    Document raw() {
        return document;
    }

    String string(String field) {
        Object value = document.get(field);
        if (value instanceof String text && !text.isEmpty()) {
            return text;
        }
        throw mismatch(field, "a non-empty string", value);
    }

    Document document(String field) {
        Object value = document.get(field);
        if (value == null) {
            return null;
        }
        if (value instanceof Document found) {
            return found;
        }
        throw mismatch(field, "an object", value);
    }

    Document document(String field, Document absent) {
        Document found = document(field);
        return found == null ? absent : found;
    }

    long integer(String field, long absent) {
        Object value = document.get(field);
        if (value == null) {
            return absent;
        }
        if (value instanceof Integer || value instanceof Long) {
            return ((Number) value).longValue();
        }
        if (value instanceof Double number && number == Math.rint(number) && !number.isInfinite()) {
            return number.longValue();
        }
        throw mismatch(field, "an integer", value);
    }

    int nonNegativeInt(String field, int absent) {
        long value = integer(field, absent);
        if (value < 0 || value > Integer.MAX_VALUE) {
            throw new WireCommandException(WireError.BAD_VALUE, command + "." + field + " must be between 0 and "
                + Integer.MAX_VALUE + ", was " + value);
        }
        return (int) value;
    }

    boolean bool(String field, boolean absent) {
        Object value = document.get(field);
        if (value == null) {
            return absent;
        }
        if (value instanceof Boolean flag) {
            return flag;
        }
        if (value instanceof Number number) {
            return number.doubleValue() != 0;
        }
        throw mismatch(field, "a boolean", value);
    }

    List<Document> documents(String field) {
        Object value = document.get(field);
        if (!(value instanceof List<?> list)) {
            throw mismatch(field, "an array of objects", value);
        }
        List<Document> documents = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            if (!(list.get(i) instanceof Document element)) {
                throw mismatch(field + "." + i, "an object", list.get(i));
            }
            documents.add(element);
        }
        return documents;
    }

    /** Refuses an option the router cannot honour exactly (it would change the answer if ignored). */
    void refuse(String field, String why) {
        if (document.containsKey(field)) {
            throw new WireCommandException(WireError.INVALID_OPTIONS, command + "." + field + ": " + why);
        }
    }

    private WireCommandException mismatch(String field, String expected, Object value) {
        String found = value == null ? "missing" : value.getClass().getSimpleName() + " " + value;
        return new WireCommandException(WireError.TYPE_MISMATCH, command + "." + field + " must be " + expected + ", was " + found);
    }
}
