package io.shardline.cli.roles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.worker.config.HealthSettings;
import io.shardline.worker.config.WorkerConfig;
import picocli.CommandLine;

/** The options of {@code shardline worker} reach the worker's settings. */
class WorkerRoleTest {

    private static final TopicCatalog CATALOG = new TopicCatalog("acme.", new RegistrySerdes("http://127.0.0.1:1"));

    private static WorkerConfig config(String... args) {
        CommandLine cli = new CommandLine(new RoleCommands.Worker());
        cli.parseArgs(args);
        return cli.<RoleCommands.Worker>getCommand().config("127.0.0.1:9092", CATALOG);
    }

    @Test
    void shouldGiveTheWorkerTheSettingsAskedFor() {
        WorkerConfig config = config("--max-parallel-migrations", "2", "--owner-lease", "3s", "--grace-period", "1m", "--worker-id", "w7");

        assertThat(config.maxParallelMigrations()).isEqualTo(2);
        assertThat(config.ownerLease()).isEqualTo(Duration.ofSeconds(3));
        assertThat(config.gracePeriod()).isEqualTo(Duration.ofMinutes(1));
        assertThat(config.workerId()).isEqualTo("w7");
    }

    @Test
    void shouldGiveTheHealthMonitorItsSettings() {
        WorkerConfig config = config("--health-interval", "200ms", "--down-after", "1s", "--up-after", "3s", "--failover-catch-up", "4s",
            "--connect-url", "http://connect:8083");

        assertThat(config.health()).isEqualTo(new HealthSettings(Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofSeconds(4)));
        assertThat(config.connectUrl()).isEqualTo("http://connect:8083");
        assertThat(config().health()).isEqualTo(HealthSettings.DEFAULTS);
        assertThat(config().connectUrl()).isNull();
        assertThatThrownBy(() -> config("--health-interval", "2s", "--down-after", "1s")).isInstanceOf(CommandLine.ParameterException.class)
            .hasMessageContaining("--down-after").hasMessageContaining("at least the health interval");
    }

    @Test
    void shouldDefaultToFourParallelMigrations() {
        assertThat(config().maxParallelMigrations()).isEqualTo(4);
    }

    @Test
    void shouldRefuseSettingsThatCannotWorkNamingTheOption() {
        assertThatThrownBy(() -> config("--max-parallel-migrations", "0")).isInstanceOf(CommandLine.ParameterException.class)
            .hasMessageContaining("--max-parallel-migrations").hasMessageContaining("at least 1");
        assertThatThrownBy(() -> config("--owner-lease", "20s")).isInstanceOf(CommandLine.ParameterException.class)
            .hasMessageContaining("--owner-lease");
    }
}
