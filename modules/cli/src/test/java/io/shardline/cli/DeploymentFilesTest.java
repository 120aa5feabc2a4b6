package io.shardline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.shardline.cli.config.ClusterFile;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ShardDescriptor;

/**
 * No Docker engine runs here, so the deployment is checked as files: the compose file references only files that
 * exist, waits on healthy or finished services, and uses the same topic prefix, shard ids and connector names as
 * {@code connectors/}, the cluster file and the secrets file.
 */
class DeploymentFilesTest {

    private static final Path ROOT = Path.of(System.getProperty("user.dir")).resolve("../..").normalize();

    @SuppressWarnings("unchecked")
    private static Map<String, Object> compose() throws IOException {
        return new Yaml().load(Files.readString(ROOT.resolve("docker-compose.yml")));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Map<String, Object>> services() throws IOException {
        return (Map<String, Map<String, Object>>) compose().get("services");
    }

    @Test
    @SuppressWarnings("unchecked")
    void shouldReferenceOnlyFilesThatExist() throws IOException {
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> service : services().entrySet()) {
            Object build = service.getValue().get("build");
            if (build instanceof Map<?, ?> b) {
                check(missing, service.getKey(), (String) b.get("context"));
                check(missing, service.getKey(), (String) b.get("dockerfile"));
            }
            for (String volume : (List<String>) service.getValue().getOrDefault("volumes", List.of())) {
                String source = volume.split(":")[0];
                if (source.startsWith("./")) {
                    check(missing, service.getKey(), source);
                }
            }
        }
        assertThat(missing).isEmpty();
        assertThat(Files.isExecutable(ROOT.resolve("deploy/register-connectors.sh"))).isTrue();
    }

    private static void check(List<String> missing, String service, String path) {
        if (path != null && !Files.exists(ROOT.resolve(path))) {
            missing.add(service + ": " + path);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void shouldWaitOnlyOnHealthyOrFinishedServices() throws IOException {
        Map<String, Map<String, Object>> services = services();
        for (Map.Entry<String, Map<String, Object>> service : services.entrySet()) {
            Map<String, Map<String, String>> dependsOn = (Map<String, Map<String, String>>) service.getValue().getOrDefault("depends_on", Map.of());
            dependsOn.forEach((dependency, condition) -> {
                assertThat(services).as(service.getKey() + " depends on " + dependency).containsKey(dependency);
                String wanted = condition.get("condition");
                assertThat(wanted).as(service.getKey() + " -> " + dependency).isIn("service_healthy", "service_completed_successfully");
                if (wanted.equals("service_healthy")) {
                    assertThat(services.get(dependency)).as(dependency + " has a healthcheck").containsKey("healthcheck");
                }
            });
        }
        for (String role : List.of("controller", "worker", "router", "admin", "init")) {
            assertThat(services).containsKey(role);
            assertThat(((List<String>) services.get(role).get("command")).get(0)).isEqualTo(role);
        }
        assertThat((Map<String, Object>) services.get("init").get("depends_on")).as("init creates the shard-key index on the replica sets")
            .containsKey("mongo-init");
    }

    @Test
    @SuppressWarnings("unchecked")
    void shouldUseTheTopicPrefixShardsAndConnectorNamesOfTheRepository() throws IOException {
        Map<String, Map<String, Object>> services = services();
        Map<String, Object> roleEnv = (Map<String, Object>) ((Map<String, Object>) compose().get("x-shardline")).get("environment");
        assertThat(roleEnv.get("SHARDLINE_TOPIC_PREFIX")).isEqualTo(TopicCatalog.DEFAULT_PREFIX);
        Map<String, Object> connectEnv = (Map<String, Object>) services.get("connect").get("environment");
        for (String topic : List.of("CONFIG_STORAGE_TOPIC", "OFFSET_STORAGE_TOPIC", "STATUS_STORAGE_TOPIC")) {
            assertThat((String) connectEnv.get(topic)).startsWith(TopicCatalog.DEFAULT_PREFIX);
        }

        ClusterFile cluster = ClusterFile.parse("shardline.yaml", Files.readString(ROOT.resolve("deploy/shardline.yaml")));
        List<String> shardIds = cluster.shards().stream().map(ShardDescriptor::getShardId).toList();
        Map<String, Object> connectorsEnv = (Map<String, Object>) services.get("connectors").get("environment");
        assertThat(Arrays.asList(((String) connectorsEnv.get("SHARD_IDS")).split(" "))).isEqualTo(shardIds);

        JsonNode template = new ObjectMapper().readTree(ROOT.resolve("connectors/mongodb-shard.json").toFile());
        List<String> names = shardIds.stream().map(id -> template.get("name").asText().replace("{{SHARD_ID}}", id)).toList();
        assertThat(Arrays.asList(((String) connectorsEnv.get("CONNECTOR_NAMES")).split(" "))).isEqualTo(names);
        assertThat(Files.readString(ROOT.resolve("deploy/register-connectors.sh"))).contains("shardline-cdc-${shard}");
        String cdcPrefix = (String) connectorsEnv.get("CDC_TOPIC_PREFIX");
        assertThat(template.get("config").get("topic.prefix").asText()).isEqualTo(cdcPrefix + ".{{SHARD_ID}}");
        assertThat(TopicCatalog.cdcTopic("s1", "auth.users")).startsWith(cdcPrefix + ".");

        Properties secrets = new Properties();
        try (var in = Files.newInputStream(ROOT.resolve("deploy/secrets/mongodb.properties"))) {
            secrets.load(in);
        }
        for (ShardDescriptor shard : cluster.shards()) {
            assertThat(services).containsKey("mongo-" + shard.getShardId());
            assertThat(secrets.getProperty(shard.getShardId() + ".uri")).isEqualTo(shard.getConnectionString());
        }
        assertThat(template.toString()).doesNotContain("mongodb://");
    }
}
