package io.shardline.router.wire;

import java.util.Iterator;
import java.util.List;

import org.bson.Document;

import io.shardline.router.api.QueryCursor;

/** A cursor over a result the router already holds whole (an aggregation's, a listing's): paged, never re-read. */
final class ListCursor implements QueryCursor {

    private final Iterator<Document> documents;
    private final List<String> shards;
    private final List<String> missing;

    ListCursor(List<Document> documents, List<String> shards, List<String> missing) {
        this.documents = documents.iterator();
        this.shards = List.copyOf(shards);
        this.missing = List.copyOf(missing);
    }

    @Override
    public boolean hasNext() {
        return documents.hasNext();
    }

    @Override
    public Document next() {
        return documents.next();
    }

    @Override
    public List<String> shards() {
        return shards;
    }

    @Override
    public List<String> missingShards() {
        return missing;
    }

    /** Nothing to check: every document was read before the first batch went out. */
    @Override
    public void checkRanges() {
        // The result was complete and checked when it was read; later migrations cannot change it.
    }

    @Override
    public void close() {
        // Holds no shard resources.
    }
}
