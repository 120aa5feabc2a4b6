package io.shardline.worker.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.avro.ShardHealth;
import io.shardline.worker.config.HealthSettings;

class HealthTrackerTest {

    private static final long MS = 1_000_000L;
    private static final String URI = "mongodb://s1:27017/?replicaSet=rs-s1";
    private static final Instant T0 = Instant.parse("2026-11-30T12:00:00Z");
    private static final HealthSettings SETTINGS = new HealthSettings(Duration.ofMillis(500), Duration.ofMillis(1_500), Duration.ofSeconds(5));

    private static Optional<HealthTracker.Transition> at(HealthTracker tracker, long millis, String failure, ShardHealth published) {
        return tracker.observe(failure, published, millis * MS, T0.plusMillis(millis));
    }

    @Test
    void shouldMarkAShardDownOnlyOnceItWentUnseenForTheDownAfterPeriod() {
        HealthTracker tracker = new HealthTracker(SETTINGS, 0, URI);
        assertThat(at(tracker, 500, null, ShardHealth.UP)).isEmpty();
        assertThat(at(tracker, 1_000, "connection refused", ShardHealth.UP)).isEmpty();
        assertThat(at(tracker, 1_500, "connection refused", ShardHealth.UP)).isEmpty();
        Optional<HealthTracker.Transition> down = at(tracker, 2_000, "connection refused", ShardHealth.UP);

        assertThat(down).isPresent();
        assertThat(down.get().to()).isEqualTo(ShardHealth.DOWN);
        assertThat(down.get().since()).as("the first failed probe").isEqualTo(T0.plusMillis(1_000));
        assertThat(down.get().cause()).contains("no answer for 1500 ms", "connection refused");
        assertThat(down.get().evidence()).isEqualTo(Duration.ofMillis(1_500));
    }

    @Test
    void shouldForgiveAMissFollowedByAnAnswer() {
        HealthTracker tracker = new HealthTracker(SETTINGS, 0, URI);
        assertThat(at(tracker, 500, null, ShardHealth.UP)).isEmpty();
        assertThat(at(tracker, 1_000, "timeout", ShardHealth.UP)).isEmpty();
        assertThat(at(tracker, 1_500, null, ShardHealth.UP)).isEmpty();
        assertThat(at(tracker, 2_000, "timeout", ShardHealth.UP)).isEmpty();
        assertThat(at(tracker, 2_500, "timeout", ShardHealth.UP)).isEmpty();
        assertThat(at(tracker, 3_000, "timeout", ShardHealth.UP)).as("unseen since 1.5 s").map(HealthTracker.Transition::to).contains(ShardHealth.DOWN);
    }

    @Test
    void shouldGiveAShardNeverReachedOneDownAfterPeriodFromTheStart() {
        HealthTracker tracker = new HealthTracker(SETTINGS, 10_000 * MS, URI);
        assertThat(at(tracker, 11_000, "refused", ShardHealth.UP)).isEmpty();
        assertThat(at(tracker, 11_500, "refused", ShardHealth.UP)).map(HealthTracker.Transition::to).contains(ShardHealth.DOWN);
    }

    @Test
    void shouldNotRepeatWhatIsPublishedAlready() {
        HealthTracker tracker = new HealthTracker(SETTINGS, 0, URI);
        assertThat(at(tracker, 3_000, "refused", ShardHealth.DOWN)).isEmpty();
        assertThat(at(tracker, 3_500, null, ShardHealth.UP)).isEmpty();
    }

    @Test
    void shouldMarkADownShardUpOnlyAfterItAnsweredWithoutAMissForTheUpAfterPeriod() {
        HealthTracker tracker = new HealthTracker(SETTINGS, 0, URI);
        assertThat(at(tracker, 1_000, null, ShardHealth.DOWN)).isEmpty();
        assertThat(at(tracker, 4_000, null, ShardHealth.DOWN)).isEmpty();
        assertThat(at(tracker, 4_500, "refused", ShardHealth.DOWN)).as("a miss starts the count again").isEmpty();
        assertThat(at(tracker, 5_000, null, ShardHealth.DOWN)).isEmpty();
        assertThat(at(tracker, 9_500, null, ShardHealth.DOWN)).isEmpty();
        Optional<HealthTracker.Transition> up = at(tracker, 10_000, null, ShardHealth.DOWN);

        assertThat(up).map(HealthTracker.Transition::to).contains(ShardHealth.UP);
        assertThat(up.get().since()).isEqualTo(T0.plusMillis(5_000));
        assertThat(up.get().evidence()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void shouldFollowTheSettingsGiven() {
        HealthTracker quick = new HealthTracker(new HealthSettings(Duration.ofMillis(100), Duration.ofMillis(300), Duration.ofMillis(200)), 0, URI);
        assertThat(at(quick, 300, "refused", ShardHealth.UP)).map(HealthTracker.Transition::to).contains(ShardHealth.DOWN);
        assertThat(at(quick, 400, null, ShardHealth.DOWN)).isEmpty();
        assertThat(at(quick, 600, null, ShardHealth.DOWN)).map(HealthTracker.Transition::to).contains(ShardHealth.UP);
    }

    @Test
    void shouldKnowWhichAddressItWatches() {
        HealthTracker tracker = new HealthTracker(SETTINGS, 0, URI);
        assertThat(tracker.watches(URI)).isTrue();
        assertThat(tracker.watches("mongodb://s1-standby:27017/?replicaSet=rs-s1b")).isFalse();
    }
}
