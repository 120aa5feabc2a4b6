package io.shardline.router.wire;

/**
 * A message that breaks the wire protocol's framing or layout. The connection cannot be trusted to stay in step after
 * one, so the server answers with an error where it can and closes the connection.
 */
public final class WireProtocolException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public WireProtocolException(String message) {
        super(message);
    }

    public WireProtocolException(String message, Throwable cause) {
        super(message, cause);
    }
}
