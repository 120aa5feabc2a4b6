package io.shardline.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.TopicTail;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * The backup role on a 2-second schedule keeping 2: each running shard gets backups, announced as taken, the oldest
 * beyond 2 deleted; a registered shard that cannot be reached gets a failure per round and, once it has gone longer
 * than the stale bound without one, a single stale announcement.
 */
@ShardlineCluster
class ScheduledBackupIT {

    @TempDir
    Path root;

    @Test
    void shouldTakeBackupsOnScheduleKeepTheNewestAndAnnounceTheMissingOnes(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (BackupFixture fixture = new BackupFixture(cluster, names)) {
            for (int i = 0; i < 50; i++) {
                fixture.router.insert(BackupFixture.TENANT, fixture.namespace, List.of(BackupFixture.document("d" + i, i)));
            }
            fixture.plane.publisher().publishShard(ShardDescriptor.newBuilder().setShardId("s9")
                .setConnectionString("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=500").setCapacityBytes(1L << 30).setCapacityOpsPerSec(1_000)
                .setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            BackupAgent.Schedule schedule = new BackupAgent.Schedule(Duration.ofSeconds(2), 2, root, true, Duration.ofSeconds(5));
            try (BackupAgent agent = BackupAgent.start(fixture.plane, schedule, "test", meters)) {
                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                List<ShardEvent> events = new ArrayList<>();
                try (TopicTail<ShardEvent> tail = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), true,
                    fixture.catalog.controlDlq().name(), "test")) {
                    while (System.nanoTime() < deadline && (count(events, ShardEventType.BACKUP_TAKEN, "s1") < 4 || count(events, ShardEventType.BACKUP_STALE, "s9") < 1)) {
                        tail.poll(Duration.ofMillis(500)).forEach(appended -> events.add(appended.value()));
                    }
                }
                assertThat(count(events, ShardEventType.BACKUP_TAKEN, "s1")).as("backups of s1 taken by the schedule").isGreaterThanOrEqualTo(4);
                assertThat(count(events, ShardEventType.BACKUP_TAKEN, "s2")).as("backups of s2").isGreaterThanOrEqualTo(2);
                assertThat(count(events, ShardEventType.BACKUP_FAILED, "s9")).as("rounds that could not reach s9").isGreaterThanOrEqualTo(1);
                assertThat(count(events, ShardEventType.BACKUP_STALE, "s9")).as("s9 announced once").isEqualTo(1);
                assertThat(count(events, ShardEventType.BACKUP_STALE, "s1")).isZero();

                assertThat(meters.get("shardline_backup_newest_age_seconds").tag("shard", "s1").gauge().value()).isBetween(0.0, 10.0);
                assertThat(meters.get("shardline_backup_failures").tag("shard", "s9").counter().count()).isGreaterThanOrEqualTo(1);
            }
            List<BackupCatalog.Entry> kept = new BackupCatalog(root).list("s1").stream().filter(BackupCatalog.Entry::complete).toList();
            assertThat(kept).as("keep 2 (3 when the agent stopped between a backup and its pruning)").hasSizeBetween(2, 3);
            assertThat(kept.get(kept.size() - 1).manifest().gzip()).isTrue();
            BackupManifest newest = kept.get(kept.size() - 1).manifest();
            assertThat(MongodumpFiles.documents(kept.get(kept.size() - 1).folder().resolve(newest.dump(fixture.namespace).dataFile()), true))
                .as("mongodump --gzip's .bson.gz").hasSize(50);
            assertThat(kept.get(kept.size() - 1).manifest().dump(fixture.namespace).documents()).isEqualTo(50);
            try (BackupAgent restarted = BackupAgent.start(fixture.plane, new BackupAgent.Schedule(Duration.ofHours(1), 2, root, false,
                Duration.ofHours(2)), "again", new SimpleMeterRegistry())) {
                assertThat(restarted.backups().newestAgeSeconds("s1")).as("the newest backup on disk, known at start").isBetween(0.0, 30.0);
            }
            Document anyDocument = BackupFixture.contents(cluster.shards().get("s1").connectionString(), fixture.namespace).get("d1");
            assertThat(anyDocument).as("the shard is untouched by its backups").isNotNull();
        }
    }

    private static long count(List<ShardEvent> events, ShardEventType type, String shard) {
        return events.stream().filter(e -> e.getType() == type && shard.equals(e.getShardId())).count();
    }
}
