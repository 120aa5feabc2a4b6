package io.shardline.controlplane.alerts;

import static io.shardline.controlplane.alerts.Events.T0;
import static io.shardline.controlplane.alerts.Events.shard;
import static io.shardline.schemas.avro.ShardEventType.SHARD_DOWN;
import static io.shardline.schemas.avro.ShardEventType.SHARD_UP;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.avro.Alert;

class FiringAlertsTest {

    private static final AlertRules RULES = AlertRules.DEFAULT;

    @Test
    void shouldHoldWhatTheTopicSaysFiresFromItsAlertsInOrder() {
        FiringAlerts firing = new FiringAlerts();
        Alert down = RULES.apply(shard("e1", SHARD_DOWN, "s1", T0), firing).get(0);
        firing.record(down, T0);
        Alert other = RULES.apply(shard("e2", SHARD_DOWN, "s2", T0), firing).get(0);
        firing.record(other, T0);
        Alert up = RULES.apply(shard("e3", SHARD_UP, "s1", T0.plusSeconds(9)), firing).get(0);
        firing.record(up, T0.plusSeconds(9));

        assertThat(firing.all()).containsExactly(other);
        assertThat(firing.firing(down.getFingerprint())).isNull();
        assertThat(firing.count("ShardDown")).isEqualTo(1);
        assertThat(firing.count("BackupStale")).isZero();
    }

    @Test
    void shouldKnowWhichAlertsWereWrittenByEventFingerprintAndStatus() {
        FiringAlerts firing = new FiringAlerts();
        Alert down = RULES.apply(shard("e1", SHARD_DOWN, "s1", T0), firing).get(0);
        firing.record(down, T0);
        Alert up = RULES.apply(shard("e2", SHARD_UP, "s1", T0), firing).get(0);
        firing.record(up, T0);

        // e1 read again after the restart: the rules raise it again (nothing fires), but it was written.
        Alert again = RULES.apply(shard("e1", SHARD_DOWN, "s1", T0), firing).get(0);
        assertThat(firing.written(again)).isTrue();
        assertThat(firing.written(RULES.apply(shard("e4", SHARD_DOWN, "s1", T0), firing).get(0))).as("a new event").isFalse();
    }

    @Test
    void shouldNameTheFiringAlertsLastWrittenBeforeATime() {
        FiringAlerts firing = new FiringAlerts();
        Alert old = RULES.apply(shard("e1", SHARD_DOWN, "s1", T0), firing).get(0);
        firing.record(old, T0);
        Alert recent = RULES.apply(shard("e2", SHARD_DOWN, "s2", T0), firing).get(0);
        firing.record(recent, T0.plusSeconds(3600));

        assertThat(firing.writtenBefore(T0.plusSeconds(60))).containsExactly(old);
        firing.record(old, T0.plusSeconds(7200));
        assertThat(firing.writtenBefore(T0.plusSeconds(60))).as("written again").isEmpty();
    }

    @Test
    void shouldForgetEverythingWhenCleared() {
        FiringAlerts firing = new FiringAlerts();
        Alert down = RULES.apply(shard("e1", SHARD_DOWN, "s1", T0), firing).get(0);
        firing.record(down, T0);

        firing.clear();

        assertThat(firing.all()).isEmpty();
        assertThat(firing.written(down)).isFalse();
    }
}
