package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import com.mongodb.client.model.Filters;

import io.shardline.controlplane.TopicTail;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.Chunk;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;
import io.shardline.worker.plane.RangeDeletions;

/**
 * The rules that keep a range deletion off data its shard owns: a migration into a shard waits while that shard has a
 * recorded deletion of an overlapping range; a deletion from a shard that owns a chunk overlapping the range is
 * refused, and the migration stalls with a {@code MIGRATION_STALLED} event instead.
 */
@ShardlineCluster
class RangeDeletionRulesIT {

    @Test
    void shouldWaitToCopyIntoAShardUntilItsPendingDeletionOfTheRangeIsGone(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5));
             MigrationWorker worker = fixture.worker(fixture.workerConfig())) {
            Chunk lower = fixture.chunks.get(0);
            String inside = lower.max().toHex().substring(0, 2);
            RangeDeletions s2 = new RangeDeletions(fixture.shard("s2").getDatabase(RangeDeletions.DATABASE)
                .getCollection(RangeDeletions.COLLECTION, org.bson.BsonDocument.class));
            s2.record(new RangeDeletions.Task("an-earlier-migration", RangeDeletions.Side.TARGET, fixture.namespace, inside, null));

            String command = fixture.moveLowerChunk();
            MigrationState waiting = fixture.awaitMigration(command, m -> m.getError() != null, Duration.ofSeconds(30));
            // A move of the other chunk shares s1 and s2 with the waiting one: it is not admitted, and an abort ends it there.
            String other = fixture.send(io.shardline.schemas.avro.MoveChunk.newBuilder().setNamespace(fixture.namespace)
                .setChunkMin(io.shardline.core.key.KeyHex.bytes(fixture.chunks.get(1).min().toHex())).setTargetShardId("s2").build());
            MigrationState queued = fixture.awaitMigration(other, MigrationFixture.in(MigrationPhase.PLANNED), Duration.ofSeconds(30));
            Thread.sleep(2_000);
            MigrationState stillWaiting = fixture.migrationOf(command);
            assertThat(fixture.migrationOf(other).getLane()).as("a move sharing the waiting move's shards, not admitted").isEqualTo(-1);
            fixture.send(io.shardline.schemas.avro.AbortMigration.newBuilder().setMigrationId(queued.getMigrationId()).build());
            MigrationState aborted = fixture.awaitMigration(other, MigrationFixture.in(MigrationPhase.ABORTED), Duration.ofSeconds(30));
            assertThat(aborted.getError()).contains("before it started");
            assertThat(fixture.route(fixture.chunks.get(1).min().toHex()).getShardId()).isEqualTo("s1");
            s2.remove("an-earlier-migration", RangeDeletions.Side.TARGET);
            MigrationState end = fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofMinutes(1));

            assertThat(waiting.getPhase()).isEqualTo(MigrationPhase.PLANNED);
            assertThat(waiting.getError()).contains("s2 still has a deletion of", "an-earlier-migration");
            assertThat(stillWaiting.getPhase()).as("nothing copied while the deletion is pending").isEqualTo(MigrationPhase.PLANNED);
            assertThat(end.getError()).isNull();
        }
    }

    @Test
    void shouldRefuseToDeleteFromAShardThatOwnsAnOverlappingChunkAndStall(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5));
             TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), false, fixture.catalog.controlDlq().name(), "test");
             MigrationWorker worker = fixture.worker(fixture.workerConfig().withGracePeriod(Duration.ofSeconds(6)))) {
            for (int i = 0; i < 50; i++) {
                fixture.router.insert(MigrationFixture.TENANT, fixture.namespace, List.of(new Document("_id", "d" + i).append("userId", "d" + i)));
            }
            Chunk lower = fixture.chunks.get(0);
            long before = lowerOn(fixture, lower, "s1");
            String command = fixture.moveLowerChunk();
            fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.CUT_OVER), Duration.ofMinutes(1));

            // A routing that says s1 also owns part of the moved range (what a range moved back under a stale migration looks like).
            ShardKey middle = ShardKey.ofHex(lower.max().toHex().substring(0, 2));
            fixture.publisher.publishChunk(Chunk.active(fixture.namespace, new KeyRange(middle, lower.max()), "s1", 1, 99));

            ShardEvent stalled = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(40).toNanos();
            while (stalled == null && System.nanoTime() < deadline) {
                stalled = events.poll(Duration.ofMillis(200)).stream().map(TopicTail.Appended::value)
                    .filter(event -> event.getType() == ShardEventType.MIGRATION_STALLED).findFirst().orElse(null);
            }
            MigrationState migration = fixture.migrationOf(command);

            assertThat(stalled).as("a MIGRATION_STALLED event").isNotNull();
            assertThat(stalled.getReason()).contains("refused", "s1 owns the chunk");
            assertThat(migration.getPhase()).isEqualTo(MigrationPhase.CUT_OVER);
            assertThat(migration.getError()).contains("refused");
            assertThat(lowerOn(fixture, lower, "s1")).as("the range's documents on s1, not deleted").isEqualTo(before).isPositive();
        }
    }

    private static long lowerOn(MigrationFixture fixture, Chunk lower, String shard) {
        int dot = fixture.namespace.indexOf('.');
        return fixture.shard(shard).getDatabase(fixture.namespace.substring(0, dot)).getCollection(fixture.namespace.substring(dot + 1))
            .countDocuments(Filters.and(Filters.gte("_sk", lower.min().toHex()), Filters.lt("_sk", lower.max().toHex())));
    }
}
