package io.shardline.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.TopicCatalog;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.CdcTopics;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * A ledger of timestamped inserts, updates and deletes runs through the router on s1; a backup is taken while it
 * writes; it writes on. Restores to a moment before the backup's copy, one inside it and one after it, each into a
 * fresh shard, must each equal the ledger's state at that moment exactly: every document, with its BSON types, and
 * nothing else.
 */
@ShardlineCluster
class PointInTimeRestoreIT {

    @TempDir
    Path backups;

    @Test
    void shouldRestoreExactlyTheLedgersStateBeforeInsideAndAfterTheBackupsCopy(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (BackupFixture fixture = new BackupFixture(cluster, names)) {
            ClusterBackups clusterBackups = fixture.backups(backups);
            BackupFixture.Ledger ledger = fixture.new Ledger(7);
            Thread.sleep(2_000);
            long before = ledger.quietMomentAfter(System.currentTimeMillis() - 1_000);
            BackupManifest manifest = clusterBackups.backup("s1", List.of(fixture.namespace));
            Thread.sleep(2_000);
            ledger.close();
            long inside = ledger.quietMomentAfter(manifest.startedAt());
            long after = ledger.quietMomentAfter(manifest.consistentAt() + 500);
            assertThat(before).isLessThan(manifest.startedAt());
            assertThat(inside).as("a moment inside the copy").isBetween(manifest.startedAt(), manifest.consistentAt());
            assertThat(CdcTopics.awaitSettled(cluster.bootstrapServers(), TopicCatalog.cdcTopic("s1", fixture.namespace)))
                .as("every write and the backup's marker captured").isGreaterThanOrEqualTo(ledger.writes.size());

            BackupManifest.NamespaceDump dump = manifest.dump(fixture.namespace);
            assertThat(dump.documents()).isPositive();
            assertThat(dump.consistentOffset()).isGreaterThan(dump.startOffset());
            assertThat(backups.resolve("s1").resolve(manifest.backupId()).resolve(dump.dataFile())).exists();

            for (long moment : new long[] {before, inside, after}) {
                try (EmbeddedShard fresh = EmbeddedShard.start("restore-" + moment)) {
                    ShardRestore.Result result = clusterBackups.restore(new ShardRestore.Request("s1", moment, null, List.of(fixture.namespace),
                        fresh.connectionString(), false));
                    Map<String, Document> expected = ledger.stateAt(moment);
                    Map<String, Document> restored = BackupFixture.contents(fresh.connectionString(), fixture.namespace);
                    assertThat(restored).as("restored to %s from %s", Instant.ofEpochMilli(moment), result.base()).isEqualTo(expected);
                    assertThat(result.base()).isEqualTo(moment >= manifest.consistentAt() ? "backup " + manifest.backupId() : "stream");
                }
            }
            assertThatThrownBy(() -> clusterBackups.restore(new ShardRestore.Request("s1", inside, manifest.backupId(), null, "mongodb://unused", false)))
                .isInstanceOf(BackupException.class).hasMessageContaining("restores to times from");
        }
    }
}
