package io.shardline.router.api;

import java.util.List;

/** Outcome of a write: documents matched, modified, inserted or deleted, ids upserted, shards written to. */
public record WriteResult(long matched, long modified, long inserted, long deleted, List<Object> upsertedIds,
                          List<String> shards) {
}
