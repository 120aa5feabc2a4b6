package io.shardline.router.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.shardline.router.api.RouterException.Kind;

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
    }

    @Test
    void shouldTellWhenToRetryOnlyWhatMaySucceedLater() {
        assertThat(RouterHttpServer.retryAfterSeconds(Kind.RETRYABLE)).isEqualTo(1);
        assertThat(RouterHttpServer.retryAfterSeconds(Kind.SHARD_DOWN)).isEqualTo(5);
        for (Kind kind : new Kind[] {Kind.BAD_REQUEST, Kind.FORBIDDEN, Kind.NOT_FOUND, Kind.TOO_LARGE, Kind.SHARD_ERROR}) {
            assertThat(RouterHttpServer.retryAfterSeconds(kind)).as("Retry-After of %s", kind).isZero();
        }
    }
}
