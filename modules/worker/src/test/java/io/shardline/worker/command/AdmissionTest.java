package io.shardline.worker.command;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;

class AdmissionTest {

    private static MigrationState migration(String id, String source, String target, MigrationPhase phase, int lane, long startedAt) {
        return MigrationState.newBuilder().setMigrationId(id).setCommandId("c-" + id).setNamespace("db.users").setChunkMin(ByteBuffer.allocate(0))
            .setSourceShardId(source).setTargetShardId(target).setPhase(phase).setLane(lane).setStartedAt(Instant.ofEpochMilli(startedAt))
            .setUpdatedAt(Instant.ofEpochMilli(startedAt)).build();
    }

    private static MigrationState waiting(String id, String source, String target, long startedAt) {
        return migration(id, source, target, MigrationPhase.PLANNED, -1, startedAt);
    }

    private static List<String> admitted(List<Admission.Admitted> admitted) {
        return admitted.stream().map(a -> a.migration().getMigrationId() + "@" + a.lane()).toList();
    }

    @Test
    void shouldAdmitMigrationsOnDisjointShardPairsTogetherInLanesFarApart() {
        List<Admission.Admitted> next = Admission.next(List.of(waiting("a", "s1", "s2", 1), waiting("b", "s3", "s4", 2)), 8, 4);

        assertThat(admitted(next)).containsExactly("a@0", "b@4");
    }

    @Test
    void shouldPassOverAMigrationWhoseShardIsBusyForALaterOneWhoseShardsAreFree() {
        List<Admission.Admitted> next = Admission.next(List.of(
            migration("running", "s1", "s2", MigrationPhase.COPYING, 0, 1),
            waiting("same-source", "s1", "s3", 2),
            waiting("same-target", "s4", "s2", 3),
            waiting("free", "s3", "s4", 4),
            waiting("after-free", "s4", "s5", 5)), 8, 4);

        assertThat(admitted(next)).as("s1 and s2 are busy; s3 and s4 are taken by the first free one").containsExactly("free@4");
    }

    @Test
    void shouldLetACutOverOrEndedMigrationFreeItsShardsAndLane() {
        List<Admission.Admitted> next = Admission.next(List.of(
            migration("in-grace", "s1", "s2", MigrationPhase.CUT_OVER, 0, 1),
            migration("ended", "s3", "s4", MigrationPhase.ABORTED, 4, 2),
            waiting("a", "s1", "s2", 3),
            waiting("b", "s4", "s3", 4)), 8, 4);

        assertThat(admitted(next)).containsExactly("a@0", "b@4");
    }

    @Test
    void shouldAdmitNoMoreThanTheParallelismAllowsCountingThoseRunning() {
        List<MigrationState> migrations = List.of(migration("running", "s1", "s2", MigrationPhase.CATCHING_UP, 0, 1),
            waiting("a", "s3", "s4", 2), waiting("b", "s5", "s6", 3), waiting("c", "s7", "s8", 4));

        assertThat(admitted(Admission.next(migrations, 8, 1))).isEmpty();
        assertThat(admitted(Admission.next(migrations, 8, 2))).containsExactly("a@4");
        assertThat(admitted(Admission.next(migrations, 8, 4))).containsExactly("a@4", "b@2", "c@6");
    }

    @Test
    void shouldAdmitNoMoreThanThereAreFreeLanes() {
        List<MigrationState> migrations = List.of(waiting("a", "s1", "s2", 1), waiting("b", "s3", "s4", 2), waiting("c", "s5", "s6", 3));

        assertThat(admitted(Admission.next(migrations, 1, 4))).containsExactly("a@0");
        assertThat(admitted(Admission.next(migrations, 2, 4))).containsExactly("a@0", "b@1");
    }

    @Test
    void shouldGiveAMigrationUnderWayWithoutALaneTheFirstFreeLaneAndCountItsShardsBusy() {
        List<MigrationState> migrations = List.of(migration("old", "s1", "s2", MigrationPhase.FENCED, -1, 1), waiting("same-shard", "s2", "s3", 2),
            waiting("free", "s4", "s5", 3));

        assertThat(admitted(Admission.next(migrations, 8, 1))).as("under way already: admitted whatever the parallelism").containsExactly("old@0");
        assertThat(admitted(Admission.next(migrations, 8, 4))).containsExactly("old@0", "free@4");
        assertThat(Admission.holdsShards(migrations.get(0))).isTrue();
        assertThat(Admission.holdsShards(migrations.get(1))).isFalse();
    }

    @Test
    void shouldTakeWaitingMigrationsOldestFirst() {
        List<Admission.Admitted> next = Admission.next(List.of(waiting("young", "s1", "s2", 9), waiting("old", "s1", "s3", 1)), 8, 4);

        assertThat(admitted(next)).containsExactly("old@0");
    }

    @Test
    void shouldOrderLanesByTheirBitReversedIndex() {
        assertThat(Admission.spreadOrder(8)).containsExactly(0, 4, 2, 6, 1, 5, 3, 7);
        assertThat(Admission.spreadOrder(5)).containsExactly(0, 4, 2, 1, 3);
        assertThat(Admission.spreadOrder(1)).containsExactly(0);
        assertThat(Admission.freeLane(4, Set.of(0, 2))).isEqualTo(1);
        assertThat(Admission.freeLane(2, Set.of(0, 1))).isEqualTo(-1);
    }

    @Test
    void shouldCountTheRoundsOfDisjointShardPairs() {
        assertThat(Admission.rounds(List.of())).isZero();
        assertThat(Admission.rounds(List.of(List.of("s1", "s3"), List.of("s2", "s4"), List.of("s1", "s3"), List.of("s2", "s4")))).isEqualTo(2);
        assertThat(Admission.rounds(List.of(List.of("s1", "s2"), List.of("s1", "s3"), List.of("s1", "s4")))).isEqualTo(3);
        assertThat(Admission.rounds(List.of(List.of("s1", "s2"), List.of("s2", "s3"), List.of("s3", "s4")))).isEqualTo(2);
    }
}
