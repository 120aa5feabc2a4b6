package io.shardline.router.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import com.mongodb.MongoTimeoutException;

import io.shardline.router.api.RouterException;

/** Failures of the router in MongoDB's error shape. */
class WireErrorTest {

    @Test
    void shouldAnswerAShardWithNoFreeConnectionAsRetryableAndAWriteAsNotWritten() {
        RouterException noConnection = new RouterException(RouterException.Kind.RETRYABLE, "shard s1: no connection came free",
            new MongoTimeoutException("Timed out after 5 ms while waiting for a connection to server 127.0.0.1:27017."));

        WireError read = WireError.of(noConnection, false);
        WireError write = WireError.of(noConnection, true);

        assertThat(read.code()).isEqualTo(WireError.EXCEEDED_TIME_LIMIT);
        assertThat(read.labels()).isEmpty();
        assertThat(write.code()).isEqualTo(WireError.EXCEEDED_TIME_LIMIT);
        assertThat(write.labels()).containsExactly(WireError.RETRYABLE_WRITE_ERROR);
        assertThat(write.message()).isEqualTo("shard s1: no connection came free");
    }

    @Test
    void shouldAnswerAShardOutOfReachAsHostUnreachable() {
        RouterException unreachable = new RouterException(RouterException.Kind.SHARD_ERROR, "shard s1 failed: timed out",
            new MongoTimeoutException("Timed out after 5000 ms while waiting for a server that matches ReadPreferenceServerSelector."));

        WireError error = WireError.of(unreachable, true);

        assertThat(error.code()).isEqualTo(WireError.HOST_UNREACHABLE);
        assertThat(error.labels()).isEqualTo(List.of());
    }

    @Test
    void shouldAnswerARefusalForADownShardAsHostUnreachableAndAWriteAsNotWritten() {
        RouterException down = new RouterException(RouterException.Kind.SHARD_DOWN,
            "find: shard s2 is DOWN since 2026-01-01T00:00:00Z (1500 ms): connection refused");

        WireError read = WireError.of(down, false);
        WireError write = WireError.of(down, true);

        assertThat(read.code()).isEqualTo(WireError.HOST_UNREACHABLE);
        assertThat(read.codeName()).isEqualTo("HostUnreachable");
        assertThat(read.labels()).isEmpty();
        assertThat(read.message()).isEqualTo(down.getMessage());
        assertThat(write.code()).isEqualTo(WireError.HOST_UNREACHABLE);
        assertThat(write.labels()).containsExactly(WireError.RETRYABLE_WRITE_ERROR);
        assertThat(write.toReply().getList("errorLabels", String.class)).containsExactly(WireError.RETRYABLE_WRITE_ERROR);
    }

    /** Applied on the shard, or maybe applied, and not acknowledged: a retry could apply it twice. */
    @ParameterizedTest
    @EnumSource(value = RouterException.Kind.class, names = {"STANDBY_UNCONFIRMED", "LEASE_LAPSED"})
    void shouldAnswerAWriteAppliedButNotAcknowledgedAsAWriteConcernFailureNotToRetryBlindly(RouterException.Kind kind) {
        WireError write = WireError.of(new RouterException(kind, "the write was applied on shard s1 but not acknowledged"), true);

        assertThat(write.code()).isEqualTo(WireError.WRITE_CONCERN_FAILED);
        assertThat(write.codeName()).isEqualTo("WriteConcernFailed");
        assertThat(write.labels()).as("a retry could apply it twice").isEmpty();
    }

    @Test
    void shouldLabelTransactionErrorsAsDriversRetryThem() {
        WireError conflict = WireError.of(new RouterException(RouterException.Kind.TRANSACTION_CONFLICT, "an older transaction holds it"), true);
        assertThat(conflict.code()).isEqualTo(WireError.WRITE_CONFLICT);
        assertThat(conflict.codeName()).isEqualTo("WriteConflict");
        assertThat(conflict.labels()).as("withTransaction runs the whole transaction again").containsExactly(WireError.TRANSIENT_TRANSACTION_ERROR);

        WireError unknown = WireError.of(new RouterException(RouterException.Kind.TRANSACTION_OUTCOME_UNKNOWN, "not read back"), true);
        assertThat(unknown.code()).isEqualTo(WireError.MAX_TIME_MS_EXPIRED);
        assertThat(unknown.labels()).as("retry the commit only").containsExactly(WireError.UNKNOWN_TRANSACTION_COMMIT_RESULT);
    }
}
