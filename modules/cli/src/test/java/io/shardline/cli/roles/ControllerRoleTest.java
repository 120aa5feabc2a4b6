package io.shardline.cli.roles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.shardline.topology.balancer.BalancerSettings;
import picocli.CommandLine;

/** The options of {@code shardline controller} reach the balancer's settings. */
class ControllerRoleTest {

    private static RoleCommands.Controller parse(String... args) {
        CommandLine cli = new CommandLine(new RoleCommands.Controller());
        cli.parseArgs(args);
        return cli.getCommand();
    }

    @Test
    void shouldGiveTheBalancerTheMergeHeadroomAskedFor() {
        BalancerSettings settings = parse("--state-dir", "state", "--merge-headroom", "0.25", "--decision-window", "5s",
            "--min-active-shards", "2").balancer();

        assertThat(settings.mergeHeadroom()).isEqualTo(0.25);
        assertThat(settings.decisionWindow()).isEqualTo(Duration.ofSeconds(5));
        assertThat(settings.minActiveShards()).isEqualTo(2);
    }

    @Test
    void shouldDefaultToTheBalancersMergeHeadroom() {
        assertThat(parse("--state-dir", "state").balancer().mergeHeadroom()).isEqualTo(BalancerSettings.DEFAULT_MERGE_HEADROOM);
    }

    @Test
    void shouldRefuseAMergeHeadroomThatCannotWorkNamingTheOption() {
        RoleCommands.Controller controller = parse("--state-dir", "state", "--merge-headroom", "1.5");

        assertThatThrownBy(controller::balancer).isInstanceOf(CommandLine.ParameterException.class)
            .hasMessageContaining("--merge-headroom").hasMessageContaining("under 1");
    }
}
