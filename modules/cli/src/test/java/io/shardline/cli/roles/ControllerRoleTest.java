package io.shardline.cli.roles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.shardline.controlplane.alerts.Alerter;
import io.shardline.controlplane.alerts.AlertRules;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.topology.balancer.BalancerSettings;
import picocli.CommandLine;

/** The options of {@code shardline controller} reach the balancer's and the alerter's settings. */
class ControllerRoleTest {

    private static final TopicCatalog CATALOG = new TopicCatalog("acme.", new RegistrySerdes("http://127.0.0.1:1"));

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

    @Test
    void shouldPostAlertsToTheAlertsPathOfTheAlertmanagerGiven() {
        Alerter.Settings settings = parse("--state-dir", "state", "--alert-webhook", "http://alertmanager:9093/").alerter("kafka:9092", CATALOG);

        assertThat(settings.webhook().alertsUrl()).hasToString("http://alertmanager:9093/api/v2/alerts");
        assertThat(settings.webhook().resendInterval()).isEqualTo(Duration.ofMinutes(1));
        assertThat(settings.catalog()).isSameAs(CATALOG);
    }

    @Test
    void shouldAlertOnTheAlertsTopicAloneWithoutAWebhook() {
        Alerter.Settings settings = parse("--state-dir", "state").alerter("kafka:9092", CATALOG);

        assertThat(settings.webhook()).isNull();
        assertThat(settings.rules()).isSameAs(AlertRules.DEFAULT);
        assertThat(settings.groupId()).as("one group per cluster: alerters of one cluster share the work").isEqualTo("acme.alerter");
    }

    @Test
    void shouldRefuseAWebhookThatIsNotAlertmanagersBaseUrlNamingTheOption() {
        RoleCommands.Controller fullUrl = parse("--state-dir", "state", "--alert-webhook", "http://alertmanager:9093/api/v2/alerts");
        RoleCommands.Controller notHttp = parse("--state-dir", "state", "--alert-webhook", "alertmanager:9093");

        assertThatThrownBy(() -> fullUrl.alerter("kafka:9092", CATALOG)).isInstanceOf(CommandLine.ParameterException.class)
            .hasMessageContaining("--alert-webhook").hasMessageContaining("without /api/v2/alerts");
        assertThatThrownBy(() -> notHttp.alerter("kafka:9092", CATALOG)).isInstanceOf(CommandLine.ParameterException.class)
            .hasMessageContaining("--alert-webhook").hasMessageContaining("http or https");
    }
}
