package io.shardline.cli.roles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shardline.backup.BackupAgent;
import picocli.CommandLine;

/** The options of {@code shardline backup-agent}, and the cluster file's backup section, reach the schedule. */
class BackupAgentRoleTest {

    @TempDir
    Path folder;

    private static BackupAgent.Schedule schedule(String... args) {
        CommandLine cli = new CommandLine(new BackupAgentRole());
        cli.parseArgs(args);
        return cli.<BackupAgentRole>getCommand().schedule();
    }

    @Test
    void shouldScheduleAsTheOptionsSay() {
        BackupAgent.Schedule schedule = schedule("--every", "30m", "--keep", "5", "--dir", "/tmp/b", "--gzip", "--stale-after", "2h");

        assertThat(schedule.every()).isEqualTo(Duration.ofMinutes(30));
        assertThat(schedule.keep()).isEqualTo(5);
        assertThat(schedule.dir()).isEqualTo(Path.of("/tmp/b"));
        assertThat(schedule.gzip()).isTrue();
        assertThat(schedule.staleAfter()).isEqualTo(Duration.ofHours(2));
        assertThat(schedule.window()).isEqualTo(Duration.ofMinutes(150));
    }

    @Test
    void shouldTakeWhatTheOptionsLeaveFromTheClusterFile() throws Exception {
        Path file = Files.writeString(folder.resolve("shardline.yaml"), """
            shards:
              - {id: s1, uri: "mongodb://m1:27017", capacityBytes: 1000, capacityOpsPerSec: 10}
            namespaces:
              - {namespace: auth.users, strategy: hashed, shardKey: [userId]}
            backup:
              every: 1h
              keep: 24
              dir: /var/backups/shardline
              gzip: true
            """);
        BackupAgent.Schedule fromFile = schedule("--config", file.toString());
        assertThat(fromFile.every()).isEqualTo(Duration.ofHours(1));
        assertThat(fromFile.keep()).isEqualTo(24);
        assertThat(fromFile.dir()).isEqualTo(Path.of("/var/backups/shardline"));
        assertThat(fromFile.gzip()).isTrue();
        assertThat(fromFile.staleAfter()).as("twice every").isEqualTo(Duration.ofHours(2));

        BackupAgent.Schedule overridden = schedule("--config", file.toString(), "--keep", "3", "--no-gzip");
        assertThat(overridden.keep()).isEqualTo(3);
        assertThat(overridden.gzip()).isFalse();
    }

    @Test
    void shouldRefuseAScheduleThatCannotWorkNamingTheOption() {
        assertThatThrownBy(() -> schedule("--dir", "/tmp/b")).isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--every");
        assertThatThrownBy(() -> schedule("--every", "1h")).isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--dir");
        assertThatThrownBy(() -> schedule("--every", "1h", "--dir", "/tmp/b", "--keep", "0")).isInstanceOf(CommandLine.ParameterException.class)
            .hasMessageContaining("keep");
        assertThatThrownBy(() -> schedule("--every", "1h", "--dir", "/tmp/b", "--stale-after", "30m"))
            .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("staleAfter");
    }
}
