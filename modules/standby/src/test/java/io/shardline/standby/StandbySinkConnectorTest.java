package io.shardline.standby;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;

class StandbySinkConnectorTest {

    private static final String URI = "mongodb://127.0.0.1:27017/?replicaSet=rs-standby";

    @Test
    void shouldBuildTheWholeConfigurationOfAShardsStandby() {
        Map<String, String> config = StandbySinkConnector.config("s1", URI, "shardline.cdc.dlq");

        assertThat(config).containsEntry("connector.class", StandbySinkConnector.class.getName())
            .containsEntry("tasks.max", "1")
            .containsEntry("key.converter", StandbySinkConnector.BYTE_ARRAY_CONVERTER)
            .containsEntry("value.converter", StandbySinkConnector.BYTE_ARRAY_CONVERTER)
            .containsEntry(StandbySinkConnector.CONNECTION_STRING_CONFIG, URI)
            .containsEntry(StandbySinkConnector.SHARD_ID_CONFIG, "s1")
            .containsEntry("errors.tolerance", "all")
            .containsEntry("errors.deadletterqueue.topic.name", "shardline.cdc.dlq")
            .containsEntry("errors.deadletterqueue.context.headers.enable", "true")
            .containsEntry("errors.deadletterqueue.topic.replication.factor", "-1");
        assertThat(StandbySinkConnector.name("s1")).isEqualTo("shardline-standby-s1");
        assertThat(errors(config)).isEmpty();
    }

    @Test
    void shouldMatchExactlyTheShardsCdcTopicsWhateverItsIdHolds() {
        Pattern topics = Pattern.compile(StandbySinkConnector.config("a.b+c", URI, "dlq").get("topics.regex"));

        assertThat(topics.matcher("cdc.a.b+c.app.users").matches()).isTrue();
        assertThat(topics.matcher("cdc.a.b+c.app.users.archive").matches()).isTrue();
        assertThat(topics.matcher("cdc.aXb+c.app.users").matches()).as("the dot is not a wildcard").isFalse();
        assertThat(topics.matcher("cdc.a.bbc.app.users").matches()).as("the plus is not a repetition").isFalse();
        assertThat(topics.matcher("cdc.a.b+c").matches()).as("a topic of the shard that names no namespace").isFalse();
        assertThat(topics.matcher("__debezium-heartbeat.cdc.a.b+c").matches()).isFalse();
        assertThat(Pattern.compile(StandbySinkConnector.config("s1", URI, "dlq").get("topics.regex")).matcher("cdc.s10.app.users").matches())
            .as("another shard whose id starts with this one's").isFalse();
    }

    @Test
    void shouldRefuseAConfigurationWithoutTheStandbysConnectionStringNamingIt() {
        Map<String, String> config = new HashMap<>(StandbySinkConnector.config("s1", URI, "dlq"));
        config.remove(StandbySinkConnector.CONNECTION_STRING_CONFIG);

        assertThat(errors(config)).singleElement().asString().contains("standby.connection.string");
        assertThatThrownBy(() -> new StandbySinkConnector().start(config)).isInstanceOf(ConfigException.class)
            .hasMessageContaining("standby.connection.string");
        assertThatThrownBy(() -> new StandbySinkTask().start(config)).isInstanceOf(ConfigException.class)
            .hasMessageContaining("standby.connection.string");
    }

    @Test
    void shouldRefuseAConnectionStringTheDriverCannotReadNamingTheSettingButNotItsValue() {
        Map<String, String> config = new HashMap<>(StandbySinkConnector.config("s1", "http://user:secret@host/", "dlq"));

        assertThat(errors(config)).singleElement().asString().contains("standby.connection.string").doesNotContain("secret");
    }

    @Test
    void shouldRefuseAConfigurationWithoutTheShardOrWithAnEmptyOneNamingIt() {
        Map<String, String> missing = new HashMap<>(StandbySinkConnector.config("s1", URI, "dlq"));
        missing.remove(StandbySinkConnector.SHARD_ID_CONFIG);
        Map<String, String> empty = new HashMap<>(missing);
        empty.put(StandbySinkConnector.SHARD_ID_CONFIG, "");

        assertThat(errors(missing)).singleElement().asString().contains("standby.shard.id");
        assertThat(errors(empty)).singleElement().asString().contains("standby.shard.id");
    }

    @Test
    void shouldRefuseConvertersOtherThanTheByteArrayOneNamingEach() {
        Map<String, String> config = new HashMap<>(StandbySinkConnector.config("s1", URI, "dlq"));
        config.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
        config.remove("key.converter");

        assertThat(errors(config)).hasSize(2)
            .anySatisfy(error -> assertThat(error).startsWith("key.converter: must be " + StandbySinkConnector.BYTE_ARRAY_CONVERTER))
            .anySatisfy(error -> assertThat(error).startsWith("value.converter: must be " + StandbySinkConnector.BYTE_ARRAY_CONVERTER)
                .contains("JsonConverter"));
    }

    @Test
    void shouldGiveEveryTaskTheConnectorsSettings() {
        StandbySinkConnector connector = new StandbySinkConnector();
        Map<String, String> config = StandbySinkConnector.config("s1", URI, "dlq");
        connector.start(config);

        assertThat(connector.taskConfigs(1)).containsExactly(config);
        assertThat(connector.taskClass()).isEqualTo(StandbySinkTask.class);
        assertThat(connector.version()).isNotBlank().isEqualTo(new StandbySinkTask().version());
    }

    private static List<String> errors(Map<String, String> config) {
        return new StandbySinkConnector().validate(config).configValues().stream()
            .map(ConfigValue::errorMessages).flatMap(List::stream).toList();
    }
}
