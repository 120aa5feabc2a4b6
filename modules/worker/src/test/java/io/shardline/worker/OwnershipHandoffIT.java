package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.shardline.core.routing.Chunk;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;
import io.shardline.core.key.KeyHex;
import io.shardline.worker.plane.Ownership;

/**
 * Ownership of migrations when workers come and go: a worker killed at the cutover, a successor whose grace period
 * is long, paused (SIGSTOP) past its session timeout while a third worker finishes the migration and moves the range
 * back, then resumed. The paused worker must not replay into, or delete from, the shard that owns the range again.
 */
@ShardlineCluster
class OwnershipHandoffIT {

    @Test
    void shouldLoseNoWriteWhenAPausedWorkerWakesUpAfterTheRangeMovedBack(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5))) {
            MigrationFixture.Load load = fixture.new Load(2, 2);
            Thread.sleep(1_500);
            Process doomed = fixture.pausingWorker(MigrationPhase.CUT_OVER);
            Process paused = null;
            try {
                String there = fixture.moveLowerChunk();
                MigrationFixture.awaitLine(doomed, "PAUSED CUT_OVER", Duration.ofSeconds(90));
                MigrationState first = fixture.awaitMigration(there, MigrationFixture.in(MigrationPhase.CUT_OVER), Duration.ofSeconds(10));
                doomed.destroyForcibly().waitFor();

                // A successor with a long grace period takes the migration over, and is paused inside that grace period.
                paused = fixture.workerProcess("paused", Duration.ofSeconds(40));
                fixture.awaitMigration(there, m -> "paused".equals(m.getWorkerId()), Duration.ofSeconds(60));
                MigrationFixture.signal(paused, "STOP");

                // A third worker, with a short grace period, finishes the migration and moves the range back.
                try (MigrationWorker late = fixture.worker(fixture.workerConfig().withWorkerId("late"))) {
                    fixture.awaitMigration(there, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofSeconds(90));
                    Chunk lower = fixture.chunks.get(0);
                    String back = fixture.send(MoveChunk.newBuilder().setNamespace(fixture.namespace)
                        .setChunkMin(KeyHex.bytes(lower.min().toHex())).setTargetShardId("s1").build());
                    fixture.awaitMigration(back, MigrationFixture.in(MigrationPhase.CUT_OVER), Duration.ofSeconds(90));

                    // The paused worker wakes up inside the grace period of a migration that has ended long ago.
                    MigrationFixture.signal(paused, "CONT");
                    Thread.sleep(15_000);
                    MigrationState returned = fixture.awaitMigration(back, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofSeconds(90));
                    load.close();

                    fixture.check(load);
                    assertThat(fixture.route(lower.min().toHex()).getShardId()).isEqualTo("s1");
                    assertThat(load.writes.get()).as("acknowledged writes").isGreaterThan(100);
                    MigrationFixture.assertOnePublisherPerTransition(fixture.history(first.getMigrationId()));
                    MigrationFixture.assertOnePublisherPerTransition(fixture.history(returned.getMigrationId()));
                }
            } finally {
                load.close();
                doomed.destroyForcibly();
                if (paused != null) {
                    MigrationFixture.signal(paused, "CONT");
                    paused.destroyForcibly().waitFor();
                }
            }
        }
    }
}
