package io.shardline.router.api;

import java.util.List;

/** Which shards a query goes to and why. */
public record Explain(String namespace, boolean allShards, String reason, List<String> keyRanges, List<String> chunks,
                      List<String> shards, long routingVersion) {
}
