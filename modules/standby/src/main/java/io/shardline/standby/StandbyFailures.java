package io.shardline.standby;

import java.util.Set;

import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;

import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoConnectionPoolClearedException;
import com.mongodb.MongoException;
import com.mongodb.MongoInterruptedException;
import com.mongodb.MongoServerException;
import com.mongodb.MongoSocketException;
import com.mongodb.MongoTimeoutException;
import com.mongodb.MongoWriteConcernException;

/**
 * Tells a standby that cannot take writes now (unreachable, no primary, stepping down, shutting down) from one that
 * refuses what it is sent. The first is a {@link RetriableException}: Connect hands the same records to the task again,
 * and since every write is a replacement or a deletion by {@code _id} in topic order, applying them again converges.
 */
final class StandbyFailures {

    /**
     * MongoDB's codes for a server that cannot take the write now: HostUnreachable, HostNotFound, NetworkTimeout,
     * ShutdownInProgress, MaxTimeMSExpired, WriteConcernFailed, PrimarySteppedDown, ExceededTimeLimit, SocketException,
     * NotWritablePrimary, InterruptedAtShutdown, InterruptedDueToReplStateChange, NotPrimaryNoSecondaryOk,
     * NotPrimaryOrSecondary.
     */
    private static final Set<Integer> TRANSIENT_CODES = Set.of(6, 7, 89, 91, 50, 64, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436);
    private static final Set<String> TRANSIENT_LABELS = Set.of("RetryableWriteError", "TransientTransactionError");

    private StandbyFailures() {
    }

    /** True for a server error code that says "not now" rather than "not this document". */
    static boolean transientCode(int code) {
        return TRANSIENT_CODES.contains(code);
    }

    /**
     * The exception a failure to write to the standby becomes: retriable when the standby cannot take writes now,
     * otherwise a {@link ConnectException} that stops the task with the cause (a refused login, say, which retrying
     * would not mend).
     */
    static ConnectException of(MongoException failure, String doing) {
        String message = doing + " failed: " + failure.getMessage();
        if (transientFailure(failure)) {
            return new RetriableException(message + "; the records are applied again", failure);
        }
        return new ConnectException(message, failure);
    }

    private static boolean transientFailure(MongoException failure) {
        if (failure instanceof MongoBulkWriteException bulk) {
            return bulk.getWriteConcernError() != null || bulk.getWriteErrors().stream().anyMatch(error -> transientCode(error.getCode()));
        }
        if (failure instanceof MongoSocketException || failure instanceof MongoTimeoutException
            || failure instanceof MongoConnectionPoolClearedException || failure instanceof MongoInterruptedException
            || failure instanceof MongoWriteConcernException) {
            return true;
        }
        if (TRANSIENT_LABELS.stream().anyMatch(failure::hasErrorLabel)) {
            return true;
        }
        return failure instanceof MongoServerException && transientCode(failure.getCode());
    }
}
