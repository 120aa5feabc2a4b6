package io.shardline.standby;

import java.util.regex.Pattern;

/**
 * The names of one shard's CDC topics, {@code cdc.<shard>.<db>.<coll>}: the pattern that matches exactly them and the
 * namespace each one carries. A database name holds no dot; a collection name may, so the namespace is everything
 * after {@code cdc.<shard>.}, the database up to its first dot.
 */
final class ShardTopics {

    private final String shardId;
    private final String prefix;

    ShardTopics(String shardId) {
        this.shardId = shardId;
        this.prefix = "cdc." + shardId + ".";
    }

    /** The regular expression of the shard's CDC topics, the shard id quoted: {@code cdc\.<shard>\..+}. */
    static String regex(String shardId) {
        return "cdc\\." + Pattern.quote(shardId) + "\\..+";
    }

    /** The namespace {@code <db>.<coll>} of one of the shard's CDC topics; another topic throws, naming it. */
    String namespace(String topic) {
        if (topic == null || !topic.startsWith(prefix)) {
            throw new IllegalArgumentException("topic: '" + topic + "' is not a CDC topic of shard " + shardId + " (cdc." + shardId + ".<db>.<coll>)");
        }
        String namespace = topic.substring(prefix.length());
        int dot = namespace.indexOf('.');
        if (dot <= 0 || dot == namespace.length() - 1) {
            throw new IllegalArgumentException("topic: '" + topic + "' names no <db>.<coll> after " + prefix);
        }
        return namespace;
    }

    /** The database of a namespace this class returned. */
    static String database(String namespace) {
        return namespace.substring(0, namespace.indexOf('.'));
    }

    /** The collection of a namespace this class returned. */
    static String collection(String namespace) {
        return namespace.substring(namespace.indexOf('.') + 1);
    }
}
