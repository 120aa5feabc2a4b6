package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import io.shardline.core.key.KeyHex;
import io.shardline.core.routing.Chunk;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * Parallel migrations in a group of two workers, one of them in its own JVM: two moves on disjoint shard pairs run at
 * once, each in a lane of its own on a different worker; a third move from a shard that is busy waits for that shard's
 * migration to cut over; the worker in its own JVM is killed (SIGKILL) in the middle of its migration, and the other
 * worker finishes it. No acknowledged write is lost.
 */
@ShardlineCluster
class ParallelMigrationIT {

    @Test
    void shouldRunMigrationsOnDisjointShardPairsAtOnceAndFinishAKilledWorkersMigration(EmbeddedCluster cluster, TestNames names) throws Exception {
        String suffix = UUID.randomUUID().toString().substring(0, 6);
        String a = "pa" + suffix;
        String b = "pb" + suffix;
        cluster.addShard(a);
        cluster.addShard(b);
        Process doomed = null;
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5), List.of("s1", "s2", a, b), List.of("s1", "s1", a))) {
            MigrationFixture.Load load = fixture.new Load(3, 2);
            try (MigrationWorker local = fixture.worker(fixture.workerConfig().withWorkerId("local"))) {
                doomed = fixture.pausingWorker(MigrationPhase.COPYING);
                MigrationFixture.awaitLine(doomed, "STARTED", Duration.ofSeconds(60));
                awaitBothHoldLanes(local);
                Thread.sleep(1_000);

                List<Chunk> chunks = fixture.chunks;
                String first = fixture.send(move(fixture, chunks.get(0), "s2"));
                String second = fixture.send(move(fixture, chunks.get(2), b));
                String third = fixture.send(move(fixture, chunks.get(1), "s2"));

                // The doomed worker stops in COPYING in whichever lane it holds; the other move goes on meanwhile.
                MigrationFixture.awaitLine(doomed, "PAUSED COPYING", Duration.ofSeconds(90));
                MigrationState paused = List.of(first, second).stream().map(fixture::migrationOf)
                    .filter(m -> "doomed".equals(m.getWorkerId())).findFirst().orElseThrow();
                String other = paused.getCommandId().equals(first) ? second : first;
                fixture.awaitMigration(other, m -> m.getPhase().ordinal() >= MigrationPhase.CUT_OVER.ordinal(), Duration.ofSeconds(90));
                assertThat(fixture.migrationOf(paused.getCommandId()).getPhase()).as("the paused migration, while the other cut over")
                    .isEqualTo(MigrationPhase.COPYING);

                doomed.destroyForcibly().waitFor();
                for (String command : List.of(first, second, third)) {
                    fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofSeconds(120));
                }
                load.close();
                fixture.check(load);
                assertThat(load.writes.get()).as("acknowledged writes").isGreaterThan(100);

                List<MigrationState> pausedHistory = fixture.history(paused.getMigrationId());
                assertThat(pausedHistory).extracting(MigrationState::getWorkerId).contains("doomed", "local");
                assertThat(last(fixture.history(fixture.migrationOf(other).getMigrationId())).getWorkerId()).isEqualTo("local");
                for (String command : List.of(first, second, third)) {
                    MigrationFixture.assertOnePublisherPerTransition(fixture.history(fixture.migrationOf(command).getMigrationId()));
                }

                // The third move shares s1 and s2 with the first: it was admitted only once the first had cut over.
                Instant firstCutOver = fixture.history(fixture.migrationOf(first).getMigrationId()).stream()
                    .filter(m -> m.getPhase() == MigrationPhase.CUT_OVER).map(MigrationState::getUpdatedAt).findFirst().orElseThrow();
                Instant thirdAdmitted = fixture.history(fixture.migrationOf(third).getMigrationId()).stream()
                    .filter(m -> m.getLane() >= 0).map(MigrationState::getUpdatedAt).findFirst().orElseThrow();
                assertThat(thirdAdmitted).as("admission of the move that shares s1 and s2").isAfterOrEqualTo(firstCutOver);
            } finally {
                load.close();
            }
        } finally {
            if (doomed != null) {
                doomed.destroyForcibly().waitFor();
            }
            cluster.removeShard(a);
            cluster.removeShard(b);
        }
    }

    private static MoveChunk move(MigrationFixture fixture, Chunk chunk, String target) {
        return MoveChunk.newBuilder().setNamespace(fixture.namespace).setChunkMin(KeyHex.bytes(chunk.min().toHex())).setTargetShardId(target).build();
    }

    private static MigrationState last(List<MigrationState> history) {
        return history.get(history.size() - 1);
    }

    /** Both workers are in the group: the local one holds some lanes but not all of them. */
    private static void awaitBothHoldLanes(MigrationWorker local) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            int held = local.heldLanes().size();
            if (held > 0 && held < io.shardline.schemas.TopicCatalog.MIGRATION_LANES) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the two workers never shared the lanes; the local one holds " + local.heldLanes());
    }
}
