package io.shardline.router.api;

import org.bson.Document;

/**
 * One {@code findAndModify}: the first document matching {@code filter} in {@code sort} order is updated (with
 * operators or a replacement) or removed, and returned as it was before or, with {@code returnNew}, after.
 *
 * @param filter     the documents that may be modified; empty for any
 * @param sort       which matching document is first; {@code null} for any
 * @param update     update operators or a replacement document; {@code null} when {@code remove}
 * @param remove     removes the document instead of updating it
 * @param returnNew  answers with the document as modified (or as inserted by an upsert) rather than as it was
 * @param fields     a find projection of the document answered; {@code null} for the whole document
 * @param upsert     inserts a document when none matches (an update only)
 */
public record FindAndModifyRequest(Document filter, Document sort, Document update, boolean remove, boolean returnNew,
                                   Document fields, boolean upsert) {

    public FindAndModifyRequest {
        filter = filter == null ? new Document() : filter;
        if (remove && update != null) {
            throw bad("remove: cannot specify both an update and remove=true");
        }
        if (!remove && update == null) {
            throw bad("update: either an update or remove=true must be specified");
        }
        if (remove && returnNew) {
            throw bad("new: cannot specify both new=true and remove=true; 'remove' always returns the deleted document");
        }
        if (remove && upsert) {
            throw bad("upsert: cannot specify both upsert=true and remove=true");
        }
        if (update != null && update.isEmpty()) {
            throw bad("update: an update document is required (operators or a replacement)");
        }
    }

    /** Whether the update is a replacement document rather than update operators. */
    public boolean replacement() {
        return update != null && update.keySet().stream().noneMatch(key -> key.startsWith("$"));
    }

    private static RouterException bad(String problem) {
        return new RouterException(RouterException.Kind.BAD_REQUEST, problem);
    }
}
