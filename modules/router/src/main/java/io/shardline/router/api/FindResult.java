package io.shardline.router.api;

import java.util.List;

import org.bson.Document;

/**
 * Documents of a find, and whether every shard the query needed answered.
 *
 * @param missingShards the shards left out: DOWN, or not answering in time (empty unless {@code partial})
 */
public record FindResult(List<Document> documents, boolean partial, List<String> missingShards, List<String> shards) {
}
