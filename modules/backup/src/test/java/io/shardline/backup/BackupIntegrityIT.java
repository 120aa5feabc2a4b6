package io.shardline.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * A backup damaged three ways (a byte of its {@code .bson} file flipped, its metadata file missing, its manifest cut
 * short) is refused with an error naming the file, and nothing is written to the shard it was to be restored into.
 * The undamaged backup then restores, and restoring it again resumes without duplicating anything.
 */
@ShardlineCluster
class BackupIntegrityIT {

    @TempDir
    Path root;

    @Test
    void shouldRefuseADamagedBackupNamingTheFileAndWriteNothing(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (BackupFixture fixture = new BackupFixture(cluster, names)) {
            for (int i = 0; i < 300; i++) {
                fixture.router.insert(BackupFixture.TENANT, fixture.namespace, List.of(BackupFixture.document("d" + i, i)));
            }
            ClusterBackups backups = fixture.backups(root);
            BackupManifest manifest = backups.backup("s1", List.of(fixture.namespace));
            Path folder = root.resolve("s1").resolve(manifest.backupId());
            BackupManifest.NamespaceDump dump = manifest.dump(fixture.namespace);
            assertThat(MongodumpFiles.documents(folder.resolve(dump.dataFile()), false)).as("mongodump's .bson, read with the driver's BSON reader")
                .hasSize(300).allSatisfy(doc -> assertThat(doc.getString("tenantId").getValue()).isEqualTo(BackupFixture.TENANT));
            assertThat(MongodumpFiles.metadata(folder.resolve(dump.metadataFile())).getArray("indexes")).isNotEmpty();

            refused(fixture, backups, folder, "flipped", copy -> flipByte(copy.resolve(dump.dataFile()), 100), dump.dataFile(), "SHA-256");
            refused(fixture, backups, folder, "missing", copy -> delete(copy.resolve(dump.metadataFile())), dump.metadataFile(), "missing");
            refused(fixture, backups, folder, "truncated", copy -> truncate(copy.resolve(BackupManifest.FILE)), BackupManifest.FILE, "truncated");

            try (EmbeddedShard fresh = EmbeddedShard.start("intact")) {
                ShardRestore.Request request = new ShardRestore.Request("s1", ShardRestore.LATEST, manifest.backupId(), null, fresh.connectionString(), false);
                ShardRestore.Result first = backups.restore(request);
                assertThat(first.namespaces().get(0).documents()).isEqualTo(300);
                try (MongoClient client = MongoClients.create(fresh.connectionString())) {
                    ShardRestore.progress(client).updateMany(new org.bson.Document(), new org.bson.Document("$set", new org.bson.Document("phase", "LOADING")));
                }
                ShardRestore.Result again = backups.restore(request);
                assertThat(again.namespaces().get(0).documents()).as("a restore run again resumes without duplicates").isEqualTo(300);
                assertThat(BackupFixture.contents(fresh.connectionString(), fixture.namespace)).hasSize(300);
            }
        }
    }

    private void refused(BackupFixture fixture, ClusterBackups backups, Path folder, String name, Consumer<Path> damage, String file, String why)
        throws IOException {
        Path copyRoot = root.resolve("damaged-" + name);
        Path copy = copyRoot.resolve("s1").resolve(folder.getFileName());
        copyTree(folder, copy);
        damage.accept(copy);
        ClusterBackups damaged = new ClusterBackups(fixture.plane, new ShardBackup.Settings(copyRoot, false, java.time.Duration.ofSeconds(60)), "test",
            new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        try (EmbeddedShard fresh = EmbeddedShard.start("damaged-" + name)) {
            assertThatThrownBy(() -> damaged.restore(new ShardRestore.Request("s1", ShardRestore.LATEST, folder.getFileName().toString(), null,
                fresh.connectionString(), false)))
                .as("a backup with %s %s", name, file).isInstanceOf(BackupException.class).hasMessageContaining(file).hasMessageContaining(why);
            try (MongoClient client = MongoClients.create(fresh.connectionString())) {
                List<String> databases = client.listDatabaseNames().into(new ArrayList<>());
                databases.removeAll(List.of("admin", "config", "local"));
                assertThat(databases).as("nothing written for a backup with %s %s", name, file).isEmpty();
            }
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path path : walk.toList()) {
                Path target = to.resolve(from.relativize(path).toString());
                if (Files.isDirectory(path)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(path, target);
                }
            }
        }
    }

    private static void flipByte(Path file, int at) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            bytes[at] ^= 0x01;
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void delete(Path file) {
        try {
            Files.delete(file);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void truncate(Path file) {
        try {
            byte[] bytes = Files.readAllBytes(file);
            Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
