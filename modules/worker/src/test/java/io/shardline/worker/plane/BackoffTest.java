package io.shardline.worker.plane;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void shouldDoubleThePausePerFailureInARowUpToItsBound() {
        Duration first = Duration.ofSeconds(1);
        Duration max = Duration.ofSeconds(30);
        assertThat(Backoff.exponential(first, max, 1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(Backoff.exponential(first, max, 2)).isEqualTo(Duration.ofSeconds(2));
        assertThat(Backoff.exponential(first, max, 5)).isEqualTo(Duration.ofSeconds(16));
        assertThat(Backoff.exponential(first, max, 6)).isEqualTo(Duration.ofSeconds(30));
        assertThat(Backoff.exponential(first, max, 1_000)).isEqualTo(Duration.ofSeconds(30));
        assertThat(Backoff.exponential(Duration.ofMillis(300), Duration.ofMillis(9_600), 0)).as("no failure yet counts as the first")
            .isEqualTo(Duration.ofMillis(300));
    }
}
