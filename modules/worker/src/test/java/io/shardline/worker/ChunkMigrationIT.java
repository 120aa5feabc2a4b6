package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;


import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/** Chunk moves on the real cluster (broker, Connect + Debezium, embedded shards) while a load writes through a router. */
@ShardlineCluster
class ChunkMigrationIT {

    /** Both verification paths: a full scan while fenced, and (a limit of 0 documents) a pre-fence scan plus rechecks. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(ints = {50_000, 0})
    void shouldMoveAChunkUnderLoadWithoutLosingOrDuplicatingAnAcknowledgedWrite(int verifyFullScanMaxDocs, EmbeddedCluster cluster,
                                                                                TestNames names) throws Exception {
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5));
             MigrationWorker worker = fixture.worker(fixture.workerConfig().withVerifyFullScanMaxDocs(verifyFullScanMaxDocs))) {
            MigrationFixture.Load load = fixture.new Load(4, 0);
            Thread.sleep(3_000);
            String command = fixture.moveLowerChunk();
            MigrationState cleaned = fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofMinutes(2));
            Thread.sleep(1_000);
            load.close();

            fixture.check(load);
            assertThat(load.writes.get()).as("acknowledged writes").isGreaterThan(500);
            assertThat(cleaned.getCopiedDocs()).isPositive();
            var route = fixture.route(fixture.chunks.get(0).min().toHex());
            assertThat(route.getShardId()).isEqualTo("s2");
            assertThat(route.getState()).isEqualTo(ChunkState.ACTIVE);
            assertThat(fixture.documents("s2")).isNotEmpty();
            System.out.printf("moved chunk: %d writes acknowledged, %d failed, %d fence attempts%n", load.writes.get(), load.failures.get(),
                cleaned.getFenceAttempts());
        }
    }
}
