package io.shardline.router.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which shards a query goes to and why.
 *
 * @param keyRanges   the key ranges the filter can match
 * @param chunks      the chunks those ranges meet, each as {@code [min, max)@shard vVersion}
 * @param shards      the shards owning them, in target order
 * @param shardChunks each target shard's chunks, described as in {@code chunks}
 */
public record Explain(String namespace, boolean allShards, String reason, List<String> keyRanges, List<String> chunks,
                      List<String> shards, long routingVersion, Map<String, List<String>> shardChunks) {

    public Explain {
        shardChunks = Collections.unmodifiableMap(new LinkedHashMap<>(shardChunks));
    }
}
