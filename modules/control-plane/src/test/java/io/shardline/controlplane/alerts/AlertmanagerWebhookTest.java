package io.shardline.controlplane.alerts;

import static io.shardline.controlplane.alerts.Events.T0;
import static io.shardline.controlplane.alerts.Events.shard;
import static io.shardline.schemas.avro.ShardEventType.SHARD_DOWN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.schemas.avro.Alert;

class AlertmanagerWebhookTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final AlerterMeters meters = new AlerterMeters(registry, AlertRules.DEFAULT, name -> 0);

    private static Alert down(String shard) {
        return AlertRules.DEFAULT.apply(shard("e-" + shard, SHARD_DOWN, shard, T0), new FiringAlerts()).get(0);
    }

    private static AlertmanagerWebhook.Settings quick(TestAlertmanager alertmanager) {
        return AlertmanagerWebhook.Settings.forAlertmanager(alertmanager.baseUrl()).withRetries(4, Duration.ofMillis(20), Duration.ofMillis(80))
            .withResendInterval(Duration.ofHours(1));
    }

    @Test
    void shouldPostToTheAlertsPathOfAlertmanagersBaseUrl() {
        assertThat(AlertmanagerWebhook.alertsUrl("http://alertmanager:9093")).hasToString("http://alertmanager:9093/api/v2/alerts");
        assertThat(AlertmanagerWebhook.alertsUrl("https://ops.example.com/alertmanager/")).hasToString("https://ops.example.com/alertmanager/api/v2/alerts");
    }

    @Test
    void shouldRefuseAUrlThatIsNotAlertmanagersBaseNamingWhy() {
        assertThatThrownBy(() -> AlertmanagerWebhook.alertsUrl("http://alertmanager:9093/api/v2/alerts")).hasMessageContaining("base URL, without /api/v2/alerts");
        assertThatThrownBy(() -> AlertmanagerWebhook.alertsUrl("alertmanager:9093")).hasMessageContaining("http or https");
        assertThatThrownBy(() -> AlertmanagerWebhook.alertsUrl("ftp://alertmanager")).hasMessageContaining("http or https");
        assertThatThrownBy(() -> AlertmanagerWebhook.alertsUrl("http://alertmanager:9093/?x=1")).hasMessageContaining("no query");
        assertThatThrownBy(() -> AlertmanagerWebhook.alertsUrl("http://a b")).hasMessageContaining("not a URL");
        assertThatThrownBy(() -> AlertmanagerWebhook.alertsUrl("")).hasMessageContaining("empty");
    }

    @Test
    void shouldDeliverAnAlertToAWebhookThatFailsTwiceThenAnswers() throws Exception {
        try (TestAlertmanager alertmanager = new TestAlertmanager().failingWith(503, 503);
             AlertmanagerWebhook webhook = new AlertmanagerWebhook(quick(alertmanager), meters, List::of)) {
            webhook.offer(down("s1"));

            alertmanager.await(TestAlertmanager.alert("ShardDown", "shard", "s1", false), Duration.ofSeconds(10));

            assertThat(alertmanager.posts()).extracting(TestAlertmanager.Post::answered).containsExactly(503, 503, 200);
            assertThat(alertmanager.posts()).allSatisfy(post -> {
                assertThat(post.method()).isEqualTo("POST");
                assertThat(post.path()).isEqualTo("/api/v2/alerts");
                assertThat(post.contentType()).isEqualTo("application/json");
            });
            assertThat(registry.get("shardline.alert.webhook.failures").tag("cause", "http_503").counter().count()).isEqualTo(2);
            assertThat(registry.get("shardline.alert.webhook.delivered").counter().count()).isEqualTo(1);
            assertThat(registry.get("shardline.alert.webhook.dropped").counter().count()).isZero();
        }
    }

    @Test
    void shouldGiveUpABatchAfterItsLastAttemptAndGoOnWithTheNext() throws Exception {
        try (TestAlertmanager alertmanager = new TestAlertmanager().failingWith(500, 502, 503, 504);
             AlertmanagerWebhook webhook = new AlertmanagerWebhook(quick(alertmanager), meters, List::of)) {
            webhook.offer(down("s1"));
            waitFor(() -> registry.get("shardline.alert.webhook.dropped").counter().count() == 1);
            webhook.offer(down("s2"));

            alertmanager.await(TestAlertmanager.alert("ShardDown", "shard", "s2", false), Duration.ofSeconds(10));

            assertThat(alertmanager.posts()).hasSize(5);
            assertThat(alertmanager.accepted()).extracting(alert -> alert.path("labels").path("shard").asText()).containsExactly("s2");
            assertThat(registry.find("shardline.alert.webhook.failures").counters()).hasSize(4);
        }
    }

    @Test
    void shouldNotRetryARequestAlertmanagerRefusesAsMalformed() throws Exception {
        try (TestAlertmanager alertmanager = new TestAlertmanager().failingWith(400);
             AlertmanagerWebhook webhook = new AlertmanagerWebhook(quick(alertmanager), meters, List::of)) {
            webhook.offer(down("s1"));
            waitFor(() -> registry.get("shardline.alert.webhook.dropped").counter().count() == 1);
            Thread.sleep(200);

            assertThat(alertmanager.posts()).hasSize(1);
            assertThat(registry.get("shardline.alert.webhook.failures").tag("cause", "http_400").counter().count()).isEqualTo(1);
        }
    }

    @Test
    void shouldCountAPostNobodyAnswersAsAFailureOfConnection() throws Exception {
        int port;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            port = free.getLocalPort();
        }
        AlertmanagerWebhook.Settings nobody = AlertmanagerWebhook.Settings.forAlertmanager("http://127.0.0.1:" + port)
            .withRetries(2, Duration.ofMillis(10), Duration.ofMillis(10));
        try (AlertmanagerWebhook webhook = new AlertmanagerWebhook(nobody, meters, List::of)) {
            webhook.offer(down("s1"));
            waitFor(() -> registry.get("shardline.alert.webhook.dropped").counter().count() == 1);

            assertThat(registry.get("shardline.alert.webhook.failures").tag("cause", "io").counter().count()).isEqualTo(2);
        }
    }

    @Test
    void shouldDropWhatDoesNotFitTheQueueRatherThanWait() throws Exception {
        try (TestAlertmanager alertmanager = new TestAlertmanager().failingWith(503, 503, 503, 503);
             AlertmanagerWebhook webhook = new AlertmanagerWebhook(quick(alertmanager).withQueueCapacity(1)
                 .withRetries(4, Duration.ofMillis(300), Duration.ofMillis(300)), meters, List::of)) {
            webhook.offer(down("s1"));
            waitFor(() -> alertmanager.posts().size() == 1);
            long started = System.nanoTime();
            webhook.offer(down("s2"));
            webhook.offer(down("s3"));

            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("offers never wait").isLessThan(Duration.ofMillis(200));
            assertThat(registry.get("shardline.alert.webhook.dropped").counter().count()).as("s3: the queue holds s2").isEqualTo(1);
            alertmanager.await(TestAlertmanager.alert("ShardDown", "shard", "s2", false), Duration.ofSeconds(10));
        }
    }

    @Test
    void shouldPostTheFiringAlertsAgainEveryResendInterval() throws Exception {
        List<Alert> firing = new CopyOnWriteArrayList<>(List.of(down("s1"), down("s2")));
        try (TestAlertmanager alertmanager = new TestAlertmanager();
             AlertmanagerWebhook webhook = new AlertmanagerWebhook(quick(alertmanager).withResendInterval(Duration.ofMillis(200)), meters,
                 () -> new ArrayList<>(firing))) {
            waitFor(() -> alertmanager.posts().size() >= 2);
            firing.clear();
            Thread.sleep(300);
            int posted = alertmanager.posts().size();
            Thread.sleep(600);

            assertThat(alertmanager.posts().get(0).alerts()).extracting(alert -> alert.path("labels").path("shard").asText())
                .containsExactly("s1", "s2");
            assertThat(alertmanager.posts().size()).as("nothing fires, nothing is posted").isEqualTo(posted);
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 10 s");
            }
            Thread.sleep(10);
        }
    }
}
