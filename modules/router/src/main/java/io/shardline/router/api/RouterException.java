package io.shardline.router.api;

/**
 * A request the router refuses or cannot complete. {@link Kind} tells a caller (and the HTTP layer) what to do:
 * fix the request, stop trying, or retry.
 */
public class RouterException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** How a caller should react. */
    public enum Kind {
        /** The request is malformed; the message names the field. */
        BAD_REQUEST,
        /** A document or request is larger than the router or MongoDB accepts. */
        TOO_LARGE,
        /** The request reaches outside the caller's tenant or uses a forbidden operator. */
        FORBIDDEN,
        /** The namespace is not sharded or has no complete routing yet. */
        NOT_FOUND,
        /** A transient condition (fenced chunk, shard timeout); the same request may succeed later. */
        RETRYABLE,
        /**
         * A shard the request needs is DOWN (its descriptor says so): the request was refused before anything of it was
         * sent to any shard; the message names the shard, since when it is DOWN and why. The same request may succeed
         * once the shard is UP again.
         */
        SHARD_DOWN,
        /** A shard answered with an error. */
        SHARD_ERROR,
        /**
         * A write with durability {@code STANDBY} was applied on its shard, but the shard's standby did not confirm it
         * within the standby ack timeout, or the shard failed over to a standby that does not hold it: the write is not
         * acknowledged, and may or may not survive (as MongoDB's write concern error after a {@code wtimeout}). Sending
         * the same write again is safe only when it is idempotent.
         */
        STANDBY_UNCONFIRMED,
        /**
         * A write was sent to its shard, but the router's lease ran out before the shard answered (the router was paused,
         * or its acks stopped reaching Kafka): a migration may have cut the range over without this router's ack
         * meanwhile, and a write that landed after that is deleted with the range. The write is not acknowledged and may
         * or may not be kept; sending it again is safe only when it is idempotent.
         */
        LEASE_LAPSED,
        /**
         * A transaction met a conflicting one it had to yield to, or was aborted by another router (it outlived the
         * transaction timeout, or an older transaction wounded it): nothing of it was committed, and running it again
         * from its start may succeed (MongoDB's {@code TransientTransactionError}).
         */
        TRANSACTION_CONFLICT,
        /**
         * A transaction's commit could not learn its decision from the coordinator log: the transaction is committed
         * or aborted whole, as the log's first decision says, and any router finishes it; it must not be run again
         * before its outcome is known (MongoDB's {@code UnknownTransactionCommitResult}: retry the commit, not the
         * transaction).
         */
        TRANSACTION_OUTCOME_UNKNOWN
    }

    private final Kind kind;

    public RouterException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public RouterException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
