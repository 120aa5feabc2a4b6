package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.bson.BsonDocument;

import com.mongodb.client.model.Filters;

import io.shardline.core.routing.RangeRelease;

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

            // The old owner says the range left it, at a routing version routers reach once they know the new owner.
            RangeRelease release = RangeRelease.fromDocument(fixture.shard("s1").getDatabase(RangeRelease.DATABASE)
                .getCollection(RangeRelease.COLLECTION, BsonDocument.class).find(Filters.eq("_id", cleaned.getMigrationId())).first());
            assertThat(release.namespace()).isEqualTo(fixture.namespace);
            assertThat(release.range()).isEqualTo(fixture.chunks.get(0).range());
            assertThat(release.toShard()).isEqualTo("s2");
            fixture.router.awaitRoutingVersionAbove(release.routingVersion() - 1, Duration.ofSeconds(10));
            assertThat(fixture.router.routingVersion()).isGreaterThanOrEqualTo(release.routingVersion());
            assertThat(fixture.router.explain(MigrationFixture.TENANT, fixture.namespace, new org.bson.Document()).chunks())
                .anyMatch(chunk -> chunk.contains("@s2"));
            System.out.printf("moved chunk: %d writes acknowledged, %d failed, %d fence attempts%n", load.writes.get(), load.failures.get(),
                cleaned.getFenceAttempts());
        }
    }
}
