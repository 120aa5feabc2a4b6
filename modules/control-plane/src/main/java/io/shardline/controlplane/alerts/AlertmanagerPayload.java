package io.shardline.controlplane.alerts;

import java.util.Collection;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.shardline.schemas.avro.Alert;

/**
 * The body of Alertmanager's {@code POST /api/v2/alerts}: a JSON array of {@code {labels, annotations, startsAt,
 * endsAt}}, times in RFC 3339 (UTC). A firing alert has no {@code endsAt} (Alertmanager then keeps it for its
 * {@code resolve_timeout} from each time it is sent); a resolved one has the time it was resolved. No
 * {@code generatorURL} is sent: no page of Shardline shows an alert.
 */
public final class AlertmanagerPayload {

    private static final ObjectMapper JSON = new ObjectMapper();

    private AlertmanagerPayload() {
    }

    public static String of(Collection<Alert> alerts) {
        ArrayNode array = JSON.createArrayNode();
        for (Alert alert : alerts) {
            ObjectNode node = array.addObject();
            strings(node.putObject("labels"), alert.getLabels());
            strings(node.putObject("annotations"), alert.getAnnotations());
            node.put("startsAt", alert.getStartsAt().toString());
            if (alert.getEndsAt() != null) {
                node.put("endsAt", alert.getEndsAt().toString());
            }
        }
        try {
            return JSON.writeValueAsString(array);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a tree of strings always writes as JSON", e);
        }
    }

    private static void strings(ObjectNode into, Map<String, String> values) {
        new java.util.TreeMap<>(values).forEach(into::put);
    }
}
