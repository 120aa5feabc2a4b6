package io.shardline.router.api;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import org.bson.Document;

/**
 * A command run on several shards that failed on at least one. The message names the first shard (by id) it failed
 * on and says where it ran; the cause is that shard's own error (a MongoDB error keeps its code). The replies of the
 * shards it ran on and the errors of the others are kept, for a caller that accepts some errors (a collection that
 * already exists).
 */
public final class ShardCommandException extends RouterException {

    private static final long serialVersionUID = 1L;

    private final transient SortedMap<String, Document> replies;
    private final transient SortedMap<String, RuntimeException> failures;

    /**
     * @param command  the command's name
     * @param replies  the reply of each shard it ran on
     * @param failures the error of each shard it failed on, at least one
     */
    public ShardCommandException(String command, Map<String, Document> replies, Map<String, RuntimeException> failures) {
        this(command, new TreeMap<>(replies), new TreeMap<>(failures));
    }

    private ShardCommandException(String command, SortedMap<String, Document> replies, SortedMap<String, RuntimeException> failures) {
        super(Kind.SHARD_ERROR, message(command, replies, failures), failures.get(failures.firstKey()));
        this.replies = Collections.unmodifiableSortedMap(replies);
        this.failures = Collections.unmodifiableSortedMap(failures);
    }

    private static String message(String command, SortedMap<String, Document> replies, SortedMap<String, RuntimeException> failures) {
        String shard = failures.firstKey();
        StringBuilder message = new StringBuilder(command).append(" failed on shard ").append(shard).append(": ")
            .append(failures.get(shard).getMessage());
        if (failures.size() > 1) {
            message.append("; it failed on shards ").append(String.join(", ", failures.keySet())).append(" in all");
        }
        message.append(replies.isEmpty() ? "; it ran on no shard" : "; it ran on " + String.join(", ", replies.keySet()));
        return message.toString();
    }

    /** The reply of each shard the command ran on, by shard id. */
    public SortedMap<String, Document> replies() {
        return replies;
    }

    /** The error of each shard the command failed on, by shard id. */
    public SortedMap<String, RuntimeException> failures() {
        return failures;
    }
}
