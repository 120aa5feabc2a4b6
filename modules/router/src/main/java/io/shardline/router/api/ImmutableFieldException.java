package io.shardline.router.api;

/**
 * An update refused because it would change a stored document's tenant or shard key (or a field of it): a malformed
 * request ({@link Kind#BAD_REQUEST}) that MongoDB's drivers know as {@code ImmutableField}.
 */
public final class ImmutableFieldException extends RouterException {

    private static final long serialVersionUID = 1L;

    public ImmutableFieldException(String message) {
        super(Kind.BAD_REQUEST, message);
    }
}
