package io.shardline.shard.internal;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.Utils;
import de.bwaldvogel.mongo.bson.Document;

/**
 * Derives a change event's {@code updateDescription} from the update operators and the post-image.
 * {@code $unset} paths (and the source of a {@code $rename}) are removed fields; every other path an operator
 * touched is an updated field with its value in the post-image. Positional paths ({@code a.$}, {@code a.$[i]})
 * are reported at the array that holds them.
 */
final class UpdateDescriptions {

    private UpdateDescriptions() {
    }

    /** True when the update document holds operators rather than a replacement document. */
    static boolean isOperatorUpdate(Document update) {
        return update.keySet().stream().anyMatch(key -> key.startsWith("$"));
    }

    static Document describe(Document update, Document postImage) {
        Set<String> updated = new LinkedHashSet<>();
        Set<String> removed = new LinkedHashSet<>();
        for (String operator : update.keySet()) {
            if (!(update.get(operator) instanceof Document fields)) {
                continue;
            }
            for (String path : fields.keySet()) {
                String target = arrayPath(path);
                switch (operator) {
                    case "$unset" -> removed.add(target);
                    case "$rename" -> {
                        removed.add(target);
                        updated.add(arrayPath(String.valueOf(fields.get(path))));
                    }
                    case "$setOnInsert" -> {
                        // applies to inserts only, which are reported as insert events
                    }
                    default -> updated.add(target);
                }
            }
        }
        Document updatedFields = new Document();
        for (String path : updated) {
            Object value = Utils.getSubdocumentValue(postImage, path);
            if (value instanceof Missing) {
                removed.add(path);
            } else {
                updatedFields.put(path, value);
            }
        }
        List<String> removedFields = new ArrayList<>(removed);
        removedFields.removeIf(updatedFields::containsKey);
        return new Document("updatedFields", updatedFields)
            .append("removedFields", removedFields)
            .append("truncatedArrays", List.of());
    }

    private static String arrayPath(String path) {
        int positional = path.indexOf(".$");
        return positional < 0 ? path : path.substring(0, positional);
    }
}
