package io.shardline.router.wire;

/** A command refused by the wire layer itself, with the MongoDB error it answers with. */
public final class WireCommandException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient WireError error;

    public WireCommandException(int code, String message) {
        super(message);
        this.error = WireError.of(code, message);
    }

    /** A refusal with an error of its own making (labels included). */
    public WireCommandException(WireError error) {
        super(error.message());
        this.error = error;
    }

    public WireError error() {
        return error;
    }
}
