package io.shardline.core.key;

/** A document or filter cannot be placed: a shard-key field is missing or has an unusable value. */
public class ShardKeyException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String field;

    public ShardKeyException(String field, String message) {
        super("shard key field '" + field + "': " + message);
        this.field = field;
    }

    /** The shard-key field at fault. */
    public String field() {
        return field;
    }
}
