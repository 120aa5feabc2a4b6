package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * The crash matrix: a worker process is killed with SIGKILL while a migration is in each state, under load; a new
 * worker takes the commands over, resumes the migration from that state and finishes it, and the checker passes.
 */
@ShardlineCluster
class WorkerCrashIT {

    @ParameterizedTest
    @EnumSource(value = MigrationPhase.class, names = {"PLANNED", "COPYING", "CATCHING_UP", "FENCED", "VERIFIED", "CUT_OVER"})
    void shouldFinishAMigrationWhoseWorkerWasKilledInThisState(MigrationPhase phase, EmbeddedCluster cluster, TestNames names) throws Exception {
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5))) {
            MigrationFixture.Load load = fixture.new Load(2, 1);
            Thread.sleep(1_500);
            Process doomed = fixture.pausingWorker(phase);
            try {
                String command = fixture.moveLowerChunk();
                MigrationFixture.awaitLine(doomed, "PAUSED " + phase, Duration.ofSeconds(90));
                // VERIFIED is written in one transaction with the cutover route and CUT_OVER: the latest state is CUT_OVER.
                MigrationPhase written = phase == MigrationPhase.VERIFIED ? MigrationPhase.CUT_OVER : phase;
                fixture.awaitMigration(command, MigrationFixture.in(written), Duration.ofSeconds(10));
                doomed.destroyForcibly().waitFor();

                try (MigrationWorker successor = fixture.worker(fixture.workerConfig().withWorkerId("successor"))) {
                    MigrationState end = fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofMinutes(2));
                    assertThat(end.getWorkerId()).isEqualTo("successor");
                }
                load.close();
                fixture.check(load);
                assertThat(fixture.route(fixture.chunks.get(0).min().toHex()).getShardId()).isEqualTo("s2");
            } finally {
                doomed.destroyForcibly();
                load.close();
            }
        }
    }
}
