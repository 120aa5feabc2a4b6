package io.shardline.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class ConnectorTemplateTest {

    @Test
    void shouldRenderOneDebeziumConnectorPerShardFromTheTemplate() throws Exception {
        String json = ConnectorTemplate.load(ConnectorTemplate.MONGODB_SHARD).render(Map.of(
            "SHARD_ID", "s7", "MONGODB_URI", "mongodb://127.0.0.1:1234/?replicaSet=rs-s7", "REPLICATION_FACTOR", "1"));

        JsonNode connector = new ObjectMapper().readTree(json);
        assertThat(connector.path("name").asText()).isEqualTo("shardline-cdc-s7");
        assertThat(connector.path("config").path("topic.prefix").asText()).isEqualTo("cdc.s7");
        assertThat(connector.path("config").path("mongodb.connection.string").asText()).isEqualTo("mongodb://127.0.0.1:1234/?replicaSet=rs-s7");
        assertThat(connector.path("config").path("connector.class").asText()).isEqualTo("io.debezium.connector.mongodb.MongoDbConnector");
    }

    @Test
    void shouldNameAPlaceholderThatWasGivenNoValue() {
        ConnectorTemplate template = ConnectorTemplate.load(ConnectorTemplate.MONGODB_SHARD);

        assertThatThrownBy(() -> template.render(Map.of("SHARD_ID", "s1")))
            .hasMessageContaining("{{MONGODB_URI}}");
    }

    @Test
    void shouldEscapeValuesSoTheResultStaysValidJson() throws Exception {
        String json = ConnectorTemplate.load(ConnectorTemplate.MONGODB_SHARD).render(Map.of(
            "SHARD_ID", "s1", "MONGODB_URI", "mongodb://u:p\"q@h/", "REPLICATION_FACTOR", "1"));

        assertThat(new ObjectMapper().readTree(json).path("config").path("mongodb.connection.string").asText()).isEqualTo("mongodb://u:p\"q@h/");
    }
}
