package io.shardline.router.api;

import org.bson.Document;

/**
 * A find, with the fields named as in MongoDB's {@code find} command.
 *
 * @param allowPartial answer with the shards that did answer (flagged partial) instead of failing when some do not
 */
public record FindRequest(Document filter, Document sort, int skip, int limit, Document projection, boolean allowPartial) {

    public FindRequest {
        filter = filter == null ? new Document() : filter;
        if (skip < 0) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "skip must be >= 0, was " + skip);
        }
        if (limit < 0) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "limit must be >= 0 (0 = no limit), was " + limit);
        }
    }

    public static FindRequest of(Document filter) {
        return new FindRequest(filter, null, 0, 0, null, false);
    }
}
