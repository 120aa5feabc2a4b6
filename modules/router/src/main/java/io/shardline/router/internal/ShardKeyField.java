package io.shardline.router.internal;

/**
 * The field in which the router stores each document's encoded shard key, as a lowercase hex string. Hex strings
 * compare as MongoDB compares strings (by bytes), in the order of the encoded keys, so a chunk is the range
 * {@code {_sk: {$gte: min, $lt: max}}} on every shard: reads see only the ranges a shard owns (never a moved
 * range's leftovers), and a migration copies a chunk with one range query.
 */
public final class ShardKeyField {

    public static final String NAME = io.shardline.core.key.ShardKey.DOCUMENT_FIELD;

    private ShardKeyField() {
    }
}
