package io.shardline.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import com.mongodb.MongoException;

import io.shardline.router.api.RouterException;

class FailuresTest {

    @Test
    void shouldCountFailedRequestsByTheRoutersKindOrTheWireCode() {
        Failures failures = new Failures();
        assertThat(failures.summary()).isEmpty();

        failures.record(new RouterException(RouterException.Kind.RETRYABLE, "chunk fenced"));
        failures.record(new RouterException(RouterException.Kind.RETRYABLE, "chunk fenced"));
        failures.record(new MongoException(262, "ExceededTimeLimit"));
        failures.record(new IllegalStateException("unexpected"));

        assertThat(failures.total()).isEqualTo(4);
        assertThat(failures.summary()).isEqualTo("IllegalStateException 1, RETRYABLE 2, wire code 262 1");
    }
}
