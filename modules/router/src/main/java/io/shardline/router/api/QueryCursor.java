package io.shardline.router.api;

import java.util.Iterator;
import java.util.List;

import org.bson.Document;

/**
 * The documents of a query, read from the shards as they are consumed: a sorted query merges the shards' sorted
 * cursors one document at a time, so a caller reading a few documents of a large result costs the shards a few
 * batches, not the whole result. Not thread-safe: one reader at a time.
 */
public interface QueryCursor extends Iterator<Document>, AutoCloseable {

    /** The shards the query reads. */
    List<String> shards();

    /** Shards left out because they failed or are DOWN, and the query allows partial results. */
    List<String> missingShards();

    /**
     * Checks that the shards still hold every range this cursor reads on them: a cursor that lived past a range's
     * migration and the deletion of its old copy would miss documents, so it fails instead (retryable: run the query
     * again). Called after each batch a caller takes.
     *
     * @throws RouterException {@code RETRYABLE} when a range this cursor reads left its shard
     */
    void checkRanges();

    /** Closes the shards' cursors. */
    @Override
    void close();
}
