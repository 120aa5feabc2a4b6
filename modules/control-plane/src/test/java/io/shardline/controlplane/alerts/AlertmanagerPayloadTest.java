package io.shardline.controlplane.alerts;

import static io.shardline.controlplane.alerts.Events.T0;
import static io.shardline.controlplane.alerts.Events.shard;
import static io.shardline.schemas.avro.ShardEventType.SHARD_DOWN;
import static io.shardline.schemas.avro.ShardEventType.SHARD_UP;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.shardline.schemas.avro.Alert;

/** The body of Alertmanager's POST /api/v2/alerts (its postableAlerts: labels, annotations, startsAt, endsAt). */
class AlertmanagerPayloadTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldSendAFiringAlertWithItsLabelsAnnotationsAndStartButNoEnd() throws Exception {
        Alert down = AlertRules.DEFAULT.apply(shard("e1", SHARD_DOWN, "s1", T0), new FiringAlerts()).get(0);

        JsonNode body = JSON.readTree(AlertmanagerPayload.of(List.of(down)));

        assertThat(body.isArray()).isTrue();
        assertThat(body).hasSize(1);
        JsonNode alert = body.get(0);
        assertThat(alert.properties()).extracting(java.util.Map.Entry::getKey).containsExactly("labels", "annotations", "startsAt");
        assertThat(alert.get("labels")).isEqualTo(JSON.readTree("{\"alertname\": \"ShardDown\", \"severity\": \"critical\", \"shard\": \"s1\"}"));
        assertThat(alert.get("annotations").get("summary").asText()).isEqualTo("shard s1 does not answer");
        assertThat(alert.get("annotations").get("description").asText()).isEqualTo("SHARD_DOWN of s1");
        assertThat(alert.get("startsAt").asText()).isEqualTo("2026-11-30T12:00:00.250Z");
    }

    @Test
    void shouldSendAResolvedAlertWithTheTimeItWasResolvedAsItsEnd() throws Exception {
        FiringAlerts firing = Events.written(AlertRules.DEFAULT.apply(shard("e1", SHARD_DOWN, "s1", T0), new FiringAlerts()));
        Alert up = AlertRules.DEFAULT.apply(shard("e2", SHARD_UP, "s1", T0.plusSeconds(30)), firing).get(0);

        JsonNode alert = JSON.readTree(AlertmanagerPayload.of(List.of(up))).get(0);

        assertThat(alert.get("startsAt").asText()).isEqualTo("2026-11-30T12:00:00.250Z");
        assertThat(alert.get("endsAt").asText()).isEqualTo("2026-11-30T12:00:30.250Z");
        assertThat(alert.get("labels").get("alertname").asText()).isEqualTo("ShardDown");
        assertThat(alert.get("annotations").get("resolution").asText()).isEqualTo("SHARD_UP of s1");
    }

    @Test
    void shouldSendSeveralAlertsAsOneArrayAndEscapeWhatTheyHold() throws Exception {
        Alert one = AlertRules.DEFAULT.apply(shard("e1", SHARD_DOWN, "s1", T0), new FiringAlerts()).get(0);
        Alert quoted = Alert.newBuilder(AlertRules.DEFAULT.apply(shard("e2", SHARD_DOWN, "s\"2", T0), new FiringAlerts()).get(0)).build();

        JsonNode body = JSON.readTree(AlertmanagerPayload.of(List.of(one, quoted)));

        assertThat(body).hasSize(2);
        assertThat(body.get(1).get("labels").get("shard").asText()).isEqualTo("s\"2");
    }
}
