package io.shardline.controlplane.alerts;

import static io.shardline.controlplane.alerts.Events.T0;
import static io.shardline.controlplane.alerts.Events.migration;
import static io.shardline.controlplane.alerts.Events.shard;
import static io.shardline.controlplane.alerts.Events.written;
import static io.shardline.schemas.avro.ShardEventType.BACKUP_FAILED;
import static io.shardline.schemas.avro.ShardEventType.BACKUP_STALE;
import static io.shardline.schemas.avro.ShardEventType.BACKUP_TAKEN;
import static io.shardline.schemas.avro.ShardEventType.FENCE_TIMEOUT;
import static io.shardline.schemas.avro.ShardEventType.MIGRATION_FAILED;
import static io.shardline.schemas.avro.ShardEventType.MIGRATION_PROGRESS;
import static io.shardline.schemas.avro.ShardEventType.MIGRATION_STALLED;
import static io.shardline.schemas.avro.ShardEventType.MIGRATION_STATE_CHANGED;
import static io.shardline.schemas.avro.ShardEventType.FAILOVER_FAILED;
import static io.shardline.schemas.avro.ShardEventType.SHARD_DOWN;
import static io.shardline.schemas.avro.ShardEventType.SHARD_FAILED_OVER;
import static io.shardline.schemas.avro.ShardEventType.SHARD_UP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.avro.Alert;
import io.shardline.schemas.avro.AlertSeverity;
import io.shardline.schemas.avro.AlertStatus;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;

class AlertRulesTest {

    private static final AlertRules RULES = AlertRules.DEFAULT;

    @Test
    void shouldRaiseACriticalShardDownLabelledWithTheShardWhenAShardGoesDown() {
        List<Alert> alerts = RULES.apply(shard("e1", SHARD_DOWN, "s1", T0), new FiringAlerts());

        assertThat(alerts).hasSize(1);
        Alert alert = alerts.get(0);
        assertThat(alert.getAlertname()).isEqualTo("ShardDown");
        assertThat(alert.getStatus()).isEqualTo(AlertStatus.FIRING);
        assertThat(alert.getSeverity()).isEqualTo(AlertSeverity.CRITICAL);
        assertThat(alert.getLabels()).containsExactlyInAnyOrderEntriesOf(Map.of("alertname", "ShardDown", "severity", "critical", "shard", "s1"));
        assertThat(alert.getAnnotations()).containsEntry("summary", "shard s1 does not answer").containsEntry("description", "SHARD_DOWN of s1");
        assertThat(alert.getStartsAt()).isEqualTo(T0);
        assertThat(alert.getEndsAt()).isNull();
        assertThat(alert.getEventId()).isEqualTo("e1");
        assertThat(alert.getSource()).isEqualTo("worker:w1");
        assertThat(alert.getFingerprint()).isEqualTo(Fingerprint.of(alert.getLabels()));
    }

    @Test
    void shouldNotRaiseAgainAnAlertThatFiresAlready() {
        FiringAlerts firing = written(RULES.apply(shard("e1", SHARD_DOWN, "s1", T0), new FiringAlerts()));

        assertThat(RULES.apply(shard("e2", SHARD_DOWN, "s1", T0.plusSeconds(5)), firing)).isEmpty();
        assertThat(RULES.apply(shard("e3", SHARD_DOWN, "s2", T0.plusSeconds(5)), firing)).extracting(a -> a.getLabels().get("shard"))
            .containsExactly("s2");
    }

    @Test
    void shouldResolveAShardDownByItsFailoverAndRaiseTheNoticeOfTheFailover() {
        FiringAlerts firing = written(new ArrayList<>(RULES.apply(shard("e1", SHARD_DOWN, "s1", T0), new FiringAlerts())));
        firing.record(RULES.apply(shard("e2", FAILOVER_FAILED, "s1", T0.plusSeconds(3)), firing).get(0), T0.plusSeconds(3));
        assertThat(firing.all()).extracting(Alert::getAlertname).containsExactlyInAnyOrder("ShardDown", "FailoverFailed");

        List<Alert> alerts = RULES.apply(shard("e3", SHARD_FAILED_OVER, "s1", T0.plusSeconds(8)), firing);

        assertThat(alerts).extracting(a -> a.getAlertname() + " " + a.getStatus()).containsExactlyInAnyOrder("ShardDown RESOLVED",
            "FailoverFailed RESOLVED", "ShardFailedOver FIRING");
        assertThat(alerts).filteredOn(a -> a.getAlertname().equals("ShardFailedOver")).singleElement()
            .satisfies(a -> assertThat(a.getSeverity()).isEqualTo(AlertSeverity.WARNING));
    }

    @Test
    void shouldResolveTheShardDownOfThatShardWhenItIsUpAgainKeepingWhenItStarted() {
        FiringAlerts firing = written(new ArrayList<>(RULES.apply(shard("e1", SHARD_DOWN, "s1", T0), new FiringAlerts())));
        firing.record(RULES.apply(shard("e2", SHARD_DOWN, "s2", T0), firing).get(0), T0);

        List<Alert> resolved = RULES.apply(shard("e3", SHARD_UP, "s1", T0.plusSeconds(30)), firing);

        assertThat(resolved).hasSize(1);
        Alert alert = resolved.get(0);
        assertThat(alert.getStatus()).isEqualTo(AlertStatus.RESOLVED);
        assertThat(alert.getLabels()).containsEntry("shard", "s1");
        assertThat(alert.getFingerprint()).isEqualTo(firing.all().get(0).getFingerprint());
        assertThat(alert.getStartsAt()).isEqualTo(T0);
        assertThat(alert.getEndsAt()).isEqualTo(T0.plusSeconds(30));
        assertThat(alert.getEventId()).isEqualTo("e3");
        assertThat(alert.getAnnotations()).containsEntry("summary", "shard s1 does not answer").containsEntry("resolution", "SHARD_UP of s1");
    }

    @Test
    void shouldResolveNothingWhenNothingOfThatShardFires() {
        assertThat(RULES.apply(shard("e1", SHARD_UP, "s1", T0), new FiringAlerts())).isEmpty();
    }

    @Test
    void shouldNeverEndAnAlertBeforeItStartedWhenTheResolvingEventsClockIsBehind() {
        FiringAlerts firing = written(RULES.apply(shard("e1", SHARD_DOWN, "s1", T0), new FiringAlerts()));

        assertThat(RULES.apply(shard("e2", SHARD_UP, "s1", T0.minusSeconds(2)), firing).get(0).getEndsAt()).isEqualTo(T0);
    }

    @Test
    void shouldRaiseAStalledMigrationLabelledWithMigrationShardAndNamespaceUntilThatMigrationChangesState() {
        Alert stalled = RULES.apply(migration("e1", MIGRATION_STALLED, "m1", "s1", T0), new FiringAlerts()).get(0);
        FiringAlerts firing = written(List.of(stalled));

        assertThat(stalled.getAlertname()).isEqualTo("MigrationStalled");
        assertThat(stalled.getSeverity()).isEqualTo(AlertSeverity.WARNING);
        assertThat(stalled.getLabels()).containsExactlyInAnyOrderEntriesOf(Map.of("alertname", "MigrationStalled", "severity", "warning",
            "migration", "m1", "shard", "s1", "namespace", "auth.users"));
        assertThat(RULES.apply(migration("e2", MIGRATION_PROGRESS, "m1", "s1", T0), firing)).as("progress is no change of state").isEmpty();
        assertThat(RULES.apply(migration("e3", MIGRATION_STATE_CHANGED, "m2", "s1", T0), firing)).as("another migration").isEmpty();
        assertThat(RULES.apply(migration("e4", MIGRATION_STATE_CHANGED, "m1", "s2", T0.plusSeconds(60)), firing))
            .as("the migration moved on, whichever shard its event names").extracting(Alert::getAlertname, Alert::getStatus)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("MigrationStalled", AlertStatus.RESOLVED));
    }

    @Test
    void shouldResolveAStallAndRaiseAFailureWhenTheStalledMigrationFails() {
        FiringAlerts firing = written(RULES.apply(migration("e1", MIGRATION_STALLED, "m1", "s1", T0), new FiringAlerts()));

        List<Alert> alerts = RULES.apply(migration("e2", MIGRATION_FAILED, "m1", "s1", T0.plusSeconds(5)), firing);

        assertThat(alerts).extracting(Alert::getAlertname, Alert::getStatus).containsExactly(
            org.assertj.core.groups.Tuple.tuple("MigrationStalled", AlertStatus.RESOLVED),
            org.assertj.core.groups.Tuple.tuple("MigrationFailed", AlertStatus.FIRING));
        assertThat(alerts.get(1).getSeverity()).isEqualTo(AlertSeverity.WARNING);
        firing.record(alerts.get(0), T0);
        firing.record(alerts.get(1), T0);
        assertThat(RULES.apply(migration("e3", MIGRATION_STATE_CHANGED, "m1", "s1", T0.plusSeconds(9)), firing))
            .as("a retry that moved on").extracting(Alert::getAlertname, Alert::getStatus)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("MigrationFailed", AlertStatus.RESOLVED));
    }

    @Test
    void shouldResolveAFailedMigrationNoLaterStateResolvesAfterItsBound() {
        Alert failed = RULES.apply(migration("e1", MIGRATION_FAILED, "m1", "s1", T0), new FiringAlerts()).get(0);
        FiringAlerts firing = written(List.of(failed));

        assertThat(RULES.expired(firing, T0.plus(AlertRules.MIGRATION_FAILURE_LASTS).minusMillis(1))).isEmpty();
        List<Alert> expired = RULES.expired(firing, T0.plus(AlertRules.MIGRATION_FAILURE_LASTS).plusSeconds(40));

        assertThat(expired).hasSize(1);
        assertThat(expired.get(0).getStatus()).isEqualTo(AlertStatus.RESOLVED);
        assertThat(expired.get(0).getFingerprint()).isEqualTo(failed.getFingerprint());
        assertThat(expired.get(0).getEndsAt()).isEqualTo(T0.plus(AlertRules.MIGRATION_FAILURE_LASTS));
        assertThat(expired.get(0).getSource()).isEqualTo(AlertRules.ALERTER);
        assertThat(expired.get(0).getAnnotations().get("resolution")).isEqualTo("no event resolved it within 1h");
    }

    @Test
    void shouldLeaveAlertsWithoutABoundFiringHoweverLong() {
        FiringAlerts firing = written(RULES.apply(shard("e1", SHARD_DOWN, "s1", T0), new FiringAlerts()));

        assertThat(RULES.expired(firing, T0.plus(Duration.ofDays(30)))).isEmpty();
    }

    @Test
    void shouldWarnOfAFenceTimeoutUntilTheMigrationMovesOnOrFails() {
        Alert timeout = RULES.apply(migration("e1", FENCE_TIMEOUT, "m1", "s2", T0), new FiringAlerts()).get(0);

        assertThat(timeout.getAlertname()).isEqualTo("FenceTimeout");
        assertThat(timeout.getSeverity()).isEqualTo(AlertSeverity.WARNING);
        assertThat(timeout.getAnnotations().get("summary")).isEqualTo("the fence of migration m1 of auth.users timed out on s2");
        assertThat(RULES.apply(migration("e2", MIGRATION_STATE_CHANGED, "m1", "s1", T0), written(List.of(timeout))))
            .extracting(Alert::getStatus).containsExactly(AlertStatus.RESOLVED);
        assertThat(RULES.apply(migration("e3", MIGRATION_FAILED, "m1", "s1", T0), written(List.of(timeout))))
            .extracting(Alert::getAlertname, Alert::getStatus).containsExactly(
                org.assertj.core.groups.Tuple.tuple("FenceTimeout", AlertStatus.RESOLVED),
                org.assertj.core.groups.Tuple.tuple("MigrationFailed", AlertStatus.FIRING));
    }

    @Test
    void shouldResolveAStaleBackupAndAFailedOneByThatShardsNextBackup() {
        Alert stale = RULES.apply(shard("e1", BACKUP_STALE, "s1", T0), new FiringAlerts()).get(0);
        Alert failed = RULES.apply(shard("e2", BACKUP_FAILED, "s1", T0), new FiringAlerts()).get(0);
        Alert otherShard = RULES.apply(shard("e3", BACKUP_STALE, "s2", T0), new FiringAlerts()).get(0);
        FiringAlerts firing = written(List.of(stale, failed, otherShard));

        assertThat(stale.getAlertname()).isEqualTo("BackupStale");
        assertThat(failed.getAlertname()).isEqualTo("BackupFailed");
        assertThat(failed.getSeverity()).isEqualTo(AlertSeverity.WARNING);
        assertThat(RULES.apply(shard("e4", BACKUP_TAKEN, "s1", T0.plusSeconds(60)), firing))
            .extracting(Alert::getAlertname, a -> a.getLabels().get("shard"), Alert::getStatus).containsExactly(
                org.assertj.core.groups.Tuple.tuple("BackupStale", "s1", AlertStatus.RESOLVED),
                org.assertj.core.groups.Tuple.tuple("BackupFailed", "s1", AlertStatus.RESOLVED));
    }

    @Test
    void shouldIgnoreEventsNoRuleNames() {
        assertThat(RULES.apply(shard("e1", ShardEventType.SPLIT_DECIDED, "s1", T0), new FiringAlerts())).isEmpty();
    }

    @Test
    void shouldRefuseAnEventWithoutAFieldItsAlertNeedsNamingTheField() {
        ShardEvent noShard = ShardEvent.newBuilder(shard("e1", SHARD_DOWN, "s1", T0)).setShardId(null).build();
        ShardEvent noMigration = ShardEvent.newBuilder(migration("e2", MIGRATION_STATE_CHANGED, "m1", "s1", T0)).setMigrationId(null).build();

        assertThatThrownBy(() -> RULES.apply(noShard, new FiringAlerts())).isInstanceOfSatisfying(UnusableEvent.class,
            e -> assertThat(e.field()).isEqualTo("shardId")).hasMessageContaining("e1").hasMessageContaining("shardId is missing");
        assertThatThrownBy(() -> RULES.apply(noMigration, new FiringAlerts())).isInstanceOfSatisfying(UnusableEvent.class,
            e -> assertThat(e.field()).isEqualTo("migrationId"));
    }

    @Test
    void shouldRaiseEveryAlertNameOfTheTable() {
        assertThat(RULES.alertnames()).containsExactly("ShardDown", "ShardFailedOver", "FailoverFailed", "MigrationStalled", "MigrationFailed", "FenceTimeout", "BackupStale",
            "BackupFailed");
    }

    @Test
    void shouldTakeANewEventTypeAsOneMoreLine() {
        List<AlertRule> lines = new ArrayList<>(List.of(
            AlertRule.fires(SHARD_DOWN, "ShardDown", AlertSeverity.CRITICAL, "shard {shard} does not answer", EventLabel.SHARD),
            AlertRule.resolves(SHARD_UP, "ShardDown", EventLabel.SHARD)));
        lines.add(AlertRule.fires(ShardEventType.SHARD_STATE_CHANGED, "ShardStateChanged", AlertSeverity.INFO, "shard {shard} changed state",
            EventLabel.SHARD));

        List<Alert> alerts = new AlertRules(lines).apply(shard("e1", ShardEventType.SHARD_STATE_CHANGED, "s3", T0), new FiringAlerts());

        assertThat(alerts).extracting(Alert::getAlertname, Alert::getSeverity)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("ShardStateChanged", AlertSeverity.INFO));
    }

    @Test
    void shouldRefuseATableThatCannotWork() {
        AlertRule raise = AlertRule.fires(SHARD_DOWN, "ShardDown", AlertSeverity.CRITICAL, "shard {shard}", EventLabel.SHARD);

        assertThatThrownBy(() -> new AlertRules(List.of(AlertRule.resolves(SHARD_UP, "ShardDown", EventLabel.SHARD))))
            .hasMessageContaining("no rule raises");
        assertThatThrownBy(() -> new AlertRules(List.of(raise, raise))).hasMessageContaining("raised by two rules");
        assertThatThrownBy(() -> new AlertRules(List.of(raise, AlertRule.resolves(SHARD_UP, "ShardDown", EventLabel.MIGRATION))))
            .hasMessageContaining("labelled");
        assertThatThrownBy(() -> AlertRule.fires(SHARD_DOWN, "ShardDown", AlertSeverity.CRITICAL, "migration {migration}", EventLabel.SHARD))
            .hasMessageContaining("{migration}");
        assertThatThrownBy(() -> AlertRule.resolves(SHARD_UP, "ShardDown", EventLabel.SHARD).resolvedAfter(Duration.ofHours(1)))
            .hasMessageContaining("only a raising rule");
        assertThatThrownBy(() -> AlertRule.fires(SHARD_DOWN, "Shard Down", AlertSeverity.CRITICAL, "x", EventLabel.SHARD))
            .hasMessageContaining("alertname");
    }
}
