package io.shardline.router.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.shardline.router.api.RouterException;
import io.shardline.router.api.RouterException.Kind;
import io.shardline.schemas.avro.WriteDurability;

/** How the HTTP API answers each kind of refusal: its status, and how soon a retry may succeed. */
class RouterHttpServerTest {

    @Test
    void shouldAnswerEachKindWithItsStatus() {
        assertThat(RouterHttpServer.status(Kind.BAD_REQUEST)).isEqualTo(400);
        assertThat(RouterHttpServer.status(Kind.FORBIDDEN)).isEqualTo(403);
        assertThat(RouterHttpServer.status(Kind.NOT_FOUND)).isEqualTo(404);
        assertThat(RouterHttpServer.status(Kind.TOO_LARGE)).isEqualTo(413);
        assertThat(RouterHttpServer.status(Kind.SHARD_ERROR)).isEqualTo(502);
        assertThat(RouterHttpServer.status(Kind.RETRYABLE)).isEqualTo(503);
        assertThat(RouterHttpServer.status(Kind.SHARD_DOWN)).isEqualTo(503);
        assertThat(RouterHttpServer.status(Kind.STANDBY_UNCONFIRMED)).as("applied, not confirmed: the outcome is unknown").isEqualTo(504);
        assertThat(RouterHttpServer.status(Kind.LEASE_LAPSED)).as("answered after the lease broke: the outcome is unknown").isEqualTo(504);
        assertThat(RouterHttpServer.status(Kind.TRANSACTION_CONFLICT)).isEqualTo(409);
        assertThat(RouterHttpServer.retryAfterSeconds(Kind.TRANSACTION_CONFLICT)).as("run the transaction again at once").isZero();
        assertThat(RouterHttpServer.status(Kind.TRANSACTION_OUTCOME_UNKNOWN)).isEqualTo(504);
        assertThat(RouterHttpServer.retryAfterSeconds(Kind.TRANSACTION_OUTCOME_UNKNOWN)).as("committed or not: never run it blindly again").isZero();
    }

    @Test
    void shouldGiveAWriteTheDurabilityItsBodyAsksForOrTheNamespaces() {
        assertThat(RouterHttpServer.writer("acme", body("{}")).durability()).as("the namespace's").isNull();
        assertThat(RouterHttpServer.writer("acme", body("{\"durability\": \"primary\"}")).durability()).isEqualTo(WriteDurability.PRIMARY);
        assertThat(RouterHttpServer.writer("acme", body("{\"durability\": \"STANDBY\"}")).durability()).isEqualTo(WriteDurability.STANDBY);
        assertThat(RouterHttpServer.writer("acme", body("{\"durability\": \"standby\"}")).tenant()).isEqualTo("acme");
        assertThatThrownBy(() -> RouterHttpServer.writer("acme", body("{\"durability\": \"disk\"}")))
            .isInstanceOf(RouterException.class).hasMessage("durability: 'disk' is not one of standby, primary");
        assertThatThrownBy(() -> RouterHttpServer.writer("acme", body("{\"durability\": 1}")))
            .isInstanceOf(RouterException.class).hasMessageStartingWith("durability:");
    }

    private static RequestBody body(String json) {
        return RequestBody.parse(json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void shouldTellWhenToRetryOnlyWhatMaySucceedLater() {
        assertThat(RouterHttpServer.retryAfterSeconds(Kind.RETRYABLE)).isEqualTo(1);
        assertThat(RouterHttpServer.retryAfterSeconds(Kind.SHARD_DOWN)).isEqualTo(5);
        for (Kind kind : new Kind[] {Kind.BAD_REQUEST, Kind.FORBIDDEN, Kind.NOT_FOUND, Kind.TOO_LARGE, Kind.SHARD_ERROR, Kind.STANDBY_UNCONFIRMED, Kind.LEASE_LAPSED}) {
            assertThat(RouterHttpServer.retryAfterSeconds(kind)).as("Retry-After of %s", kind).isZero();
        }
    }
}
