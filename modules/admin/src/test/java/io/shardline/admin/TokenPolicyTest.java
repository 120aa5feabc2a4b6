package io.shardline.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import org.junit.jupiter.api.Test;

import io.vertx.core.json.JsonObject;

class TokenPolicyTest {

    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final TokenPolicy DAY = new TokenPolicy(Duration.ofHours(24), Clock.fixed(NOW, ZoneOffset.UTC));

    private static JsonObject claims(long iatOffset, Long expOffset) {
        JsonObject claims = new JsonObject().put("sub", "alice").put("iat", NOW.getEpochSecond() + iatOffset);
        return expOffset == null ? claims : claims.put("exp", NOW.getEpochSecond() + expOffset);
    }

    @Test
    void shouldAcceptATokenWithinTheMaximumLifetime() {
        assertThat(DAY.problem(claims(0, 3600L))).isNull();
        assertThat(DAY.problem(claims(-60, 86_340L))).as("a full day from its issue").isNull();
        assertThat(DAY.problem(claims(0, 3600L).put("nbf", NOW.getEpochSecond()))).isNull();
    }

    @Test
    void shouldRefuseATokenWithoutExpiryOverTheLifetimeOrNotYetValid() {
        assertThat(DAY.problem(claims(0, null))).contains("exp", "required");
        assertThat(DAY.problem(claims(0, 100L * 365 * 86_400))).contains("longer than the maximum lifetime of 86400 s");
        assertThat(DAY.problem(claims(-86_400, 3600L))).as("issued a day ago for 25 hours").contains("maximum lifetime");
        assertThat(DAY.problem(new JsonObject().put("exp", NOW.getEpochSecond() + 90_000))).as("without iat, from now").contains("maximum lifetime");
        assertThat(DAY.problem(claims(0, 3600L).put("nbf", NOW.getEpochSecond() + 60))).contains("nbf is in the future");
        assertThat(DAY.problem(claims(0, 3600L).put("nbf", "soon"))).contains("nbf");
        assertThat(DAY.problem(claims(-7200, -3600L))).contains("expired");
    }

    @Test
    void shouldTakeTheConfiguredMaximum() {
        TokenPolicy hour = new TokenPolicy(Duration.ofHours(1), Clock.fixed(NOW, ZoneOffset.UTC));

        assertThat(DAY.problem(claims(0, 7200L))).isNull();
        assertThat(hour.problem(claims(0, 7200L))).contains("3600 s");
        assertThatThrownBy(() -> new TokenPolicy(Duration.ZERO, Clock.systemUTC())).hasMessageContaining("maxTokenLifetime");
    }
}
