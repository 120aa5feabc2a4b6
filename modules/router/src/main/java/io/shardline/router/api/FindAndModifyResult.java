package io.shardline.router.api;

import java.util.List;

import org.bson.Document;

/**
 * What a {@code findAndModify} did, as MongoDB's {@code lastErrorObject} and {@code value} say it.
 *
 * @param document        the document removed or updated, before or after as asked (projected), or the document an
 *                        upsert inserted when the new one was asked for; {@code null} when none
 * @param n               1 when a document was removed, updated or inserted, else 0
 * @param updatedExisting an update matched an existing document (always false for a removal)
 * @param upsertedId      the {@code _id} of the document an upsert inserted, else {@code null}
 * @param shards          the shards written to
 */
public record FindAndModifyResult(Document document, long n, boolean updatedExisting, Object upsertedId, List<String> shards) {

    public FindAndModifyResult {
        shards = List.copyOf(shards);
    }

    /** Nothing matched and nothing was inserted. */
    public static FindAndModifyResult none(List<String> shards) {
        return new FindAndModifyResult(null, 0, false, null, shards);
    }
}
