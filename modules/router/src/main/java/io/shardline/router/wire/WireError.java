package io.shardline.router.wire;

import java.util.List;

import org.bson.Document;

import com.mongodb.MongoCommandException;
import com.mongodb.MongoException;
import com.mongodb.MongoSocketException;
import com.mongodb.MongoTimeoutException;

import io.shardline.router.api.ImmutableFieldException;
import io.shardline.router.api.NotSupportedException;
import io.shardline.router.api.RouterException;

/**
 * An error in MongoDB's shape ({@code ok: 0}, {@code errmsg}, {@code code}, {@code codeName}, {@code errorLabels}),
 * with MongoDB's codes, so that drivers react to it as to mongos: a transient condition carries a code drivers retry
 * reads on, and a write that certainly did not run carries the {@code RetryableWriteError} label.
 */
public record WireError(int code, String codeName, String message, List<String> labels) {

    public static final int BAD_VALUE = 2;
    public static final int HOST_UNREACHABLE = 6;
    public static final int FAILED_TO_PARSE = 9;
    public static final int UNAUTHORIZED = 13;
    public static final int TYPE_MISMATCH = 14;
    public static final int AUTHENTICATION_FAILED = 18;
    public static final int ILLEGAL_OPERATION = 20;
    public static final int NAMESPACE_NOT_FOUND = 26;
    public static final int PATH_NOT_VIABLE = 28;
    public static final int CONFLICTING_UPDATE_OPERATORS = 40;
    public static final int INDEX_NOT_FOUND = 27;
    public static final int CURSOR_NOT_FOUND = 43;
    public static final int NAMESPACE_EXISTS = 48;
    public static final int COMMAND_NOT_FOUND = 59;
    /** A write applied but not confirmed as durable as asked (here: by the shard's standby) in time. */
    public static final int WRITE_CONCERN_FAILED = 64;
    public static final int CANNOT_CREATE_INDEX = 67;
    public static final int IMMUTABLE_FIELD = 66;
    public static final int INVALID_OPTIONS = 72;
    public static final int MAX_TIME_MS_EXPIRED = 50;
    public static final int WRITE_CONFLICT = 112;
    public static final int COMMAND_NOT_SUPPORTED = 115;
    public static final int EXCEEDED_TIME_LIMIT = 262;
    public static final int CURSOR_IN_USE = 292;
    public static final int BSON_OBJECT_TOO_LARGE = 10334;
    public static final int DUPLICATE_KEY = 11000;
    public static final int INTERNAL_ERROR = 1;

    public static final String RETRYABLE_WRITE_ERROR = "RetryableWriteError";
    /** The label drivers retry a whole transaction on ({@code session.withTransaction} does). */
    public static final String TRANSIENT_TRANSACTION_ERROR = "TransientTransactionError";
    /** The label drivers retry a commit on (and only the commit: the transaction may have committed). */
    public static final String UNKNOWN_TRANSACTION_COMMIT_RESULT = "UnknownTransactionCommitResult";

    public WireError {
        labels = List.copyOf(labels);
    }

    public static WireError of(int code, String message) {
        return new WireError(code, codeName(code), message, List.of());
    }

    /**
     * The error a failed request answers with.
     *
     * @param write whether the request was a write: a retryable router refusal (a fence that outlasted its budget, a
     *              lapsed lease, no free connection to the shard in time, a target shard that is DOWN) comes before
     *              anything is written, so it carries {@code RetryableWriteError}. A DOWN shard is
     *              {@code HostUnreachable}, which drivers also retry reads on
     */
    public static WireError of(Throwable failure, boolean write) {
        if (failure instanceof WireCommandException command) {
            return command.error();
        }
        if (failure instanceof NotSupportedException unsupported) {
            return of(COMMAND_NOT_SUPPORTED, unsupported.getMessage());
        }
        if (failure instanceof ImmutableFieldException immutable) {
            return of(IMMUTABLE_FIELD, immutable.getMessage());
        }
        if (failure instanceof RouterException router) {
            MongoException shard = shardCause(router);
            // A retryable refusal stays retryable whatever the driver said: a request that found no free connection
            // to its shard carries the driver's timeout, yet nothing of it reached the shard.
            if (shard != null && router.kind() != RouterException.Kind.RETRYABLE && router.kind() != RouterException.Kind.STANDBY_UNCONFIRMED) {
                return fromShard(shard, router.getMessage());
            }
            return switch (router.kind()) {
                case BAD_REQUEST -> of(BAD_VALUE, router.getMessage());
                case TOO_LARGE -> of(BSON_OBJECT_TOO_LARGE, router.getMessage());
                case FORBIDDEN -> of(UNAUTHORIZED, router.getMessage());
                case NOT_FOUND -> of(NAMESPACE_NOT_FOUND, router.getMessage());
                case RETRYABLE -> new WireError(EXCEEDED_TIME_LIMIT, codeName(EXCEEDED_TIME_LIMIT), router.getMessage(),
                    write ? List.of(RETRYABLE_WRITE_ERROR) : List.of());
                case SHARD_DOWN -> new WireError(HOST_UNREACHABLE, codeName(HOST_UNREACHABLE), router.getMessage(),
                    write ? List.of(RETRYABLE_WRITE_ERROR) : List.of());
                case SHARD_ERROR -> of(HOST_UNREACHABLE, router.getMessage());
                case STANDBY_UNCONFIRMED, LEASE_LAPSED -> of(WRITE_CONCERN_FAILED, router.getMessage());
                case TRANSACTION_CONFLICT -> new WireError(WRITE_CONFLICT, codeName(WRITE_CONFLICT), router.getMessage(),
                    List.of(TRANSIENT_TRANSACTION_ERROR));
                case TRANSACTION_OUTCOME_UNKNOWN -> new WireError(MAX_TIME_MS_EXPIRED, codeName(MAX_TIME_MS_EXPIRED), router.getMessage(),
                    List.of(UNKNOWN_TRANSACTION_COMMIT_RESULT));
            };
        }
        return of(INTERNAL_ERROR, failure.getClass().getSimpleName() + ": " + failure.getMessage());
    }

    private static MongoException shardCause(Throwable failure) {
        for (Throwable cause = failure.getCause(); cause != null; cause = cause.getCause()) {
            if (cause instanceof MongoException mongo) {
                return mongo;
            }
        }
        return null;
    }

    /** A shard's own error keeps its code; a shard out of reach is {@code HostUnreachable}, which drivers retry reads on. */
    private static WireError fromShard(MongoException shard, String message) {
        if (shard instanceof MongoSocketException || shard instanceof MongoTimeoutException) {
            return of(HOST_UNREACHABLE, message);
        }
        if (shard instanceof MongoCommandException command && command.getErrorCode() > 0) {
            return new WireError(command.getErrorCode(), command.getErrorCodeName(), message, List.of());
        }
        if (shard.getCode() > 0) {
            return of(shard.getCode(), message);
        }
        return of(HOST_UNREACHABLE, message);
    }

    /** MongoDB's name of a code this server answers with. */
    public static String codeName(int code) {
        return switch (code) {
            case INTERNAL_ERROR -> "InternalError";
            case BAD_VALUE -> "BadValue";
            case HOST_UNREACHABLE -> "HostUnreachable";
            case FAILED_TO_PARSE -> "FailedToParse";
            case UNAUTHORIZED -> "Unauthorized";
            case TYPE_MISMATCH -> "TypeMismatch";
            case AUTHENTICATION_FAILED -> "AuthenticationFailed";
            case ILLEGAL_OPERATION -> "IllegalOperation";
            case NAMESPACE_NOT_FOUND -> "NamespaceNotFound";
            case PATH_NOT_VIABLE -> "PathNotViable";
            case CONFLICTING_UPDATE_OPERATORS -> "ConflictingUpdateOperators";
            case INDEX_NOT_FOUND -> "IndexNotFound";
            case CURSOR_NOT_FOUND -> "CursorNotFound";
            case NAMESPACE_EXISTS -> "NamespaceExists";
            case COMMAND_NOT_FOUND -> "CommandNotFound";
            case WRITE_CONCERN_FAILED -> "WriteConcernFailed";
            case CANNOT_CREATE_INDEX -> "CannotCreateIndex";
            case IMMUTABLE_FIELD -> "ImmutableField";
            case INVALID_OPTIONS -> "InvalidOptions";
            case WRITE_CONFLICT -> "WriteConflict";
            case MAX_TIME_MS_EXPIRED -> "MaxTimeMSExpired";
            case COMMAND_NOT_SUPPORTED -> "CommandNotSupported";
            case EXCEEDED_TIME_LIMIT -> "ExceededTimeLimit";
            case CURSOR_IN_USE -> "CursorInUse";
            case BSON_OBJECT_TOO_LARGE -> "BSONObjectTooLarge";
            case DUPLICATE_KEY -> "DuplicateKey";
            default -> "Location" + code;
        };
    }

    /** The reply document of a failed command. */
    public Document toReply() {
        Document reply = new Document("ok", 0.0).append("errmsg", message).append("code", code).append("codeName", codeName);
        if (!labels.isEmpty()) {
            reply.append("errorLabels", labels);
        }
        return reply;
    }

    /** The entry of {@code writeErrors} for the statement at {@code index}. */
    public Document toWriteError(int index) {
        return new Document("index", index).append("code", code).append("codeName", codeName).append("errmsg", message);
    }
}
