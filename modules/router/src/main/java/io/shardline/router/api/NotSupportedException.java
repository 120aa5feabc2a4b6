package io.shardline.router.api;

/**
 * A request the router refuses because it cannot answer it exactly across shards (an aggregation stage, accumulator,
 * expression or router-side operator it does not run): a {@link Kind#BAD_REQUEST} naming what, which MongoDB's
 * drivers know as {@code CommandNotSupported}.
 */
public final class NotSupportedException extends RouterException {

    private static final long serialVersionUID = 1L;

    public NotSupportedException(String message) {
        super(Kind.BAD_REQUEST, message);
    }
}
