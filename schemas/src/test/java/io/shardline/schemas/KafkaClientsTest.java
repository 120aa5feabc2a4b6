package io.shardline.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class KafkaClientsTest {

    @Test
    void shouldGiveEveryClientTheDeploymentsSettingsFromTheEnvironment() {
        KafkaClients clients = KafkaClients.of("b1:9092,b2:9092", Map.of("SHARDLINE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
            "SHARDLINE_KAFKA_SASL_MECHANISM", "PLAIN", "PATH", "/usr/bin", "KAFKA_HEAP_OPTS", "-Xmx1g"));

        for (Map<String, Object> config : new Map[] {clients.reader("g", Map.of()), clients.producer(Map.of()), clients.common()}) {
            assertThat(config).containsEntry(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_SSL")
                .containsEntry("sasl.mechanism", "PLAIN")
                .containsEntry(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, "b1:9092,b2:9092")
                .doesNotContainKeys("path", "kafka.heap.opts", KafkaClients.READ_FETCH_MAX_WAIT_MS);
        }
    }

    @Test
    void shouldReadShardlinesOwnSettingWithItsDefaultAndValidator() {
        assertThat(KafkaClients.of("b:9092", Map.of()).reader(null, Map.of()))
            .containsEntry(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 20).doesNotContainKey(ConsumerConfig.GROUP_ID_CONFIG);
        assertThat(KafkaClients.of("b:9092", Map.of("SHARDLINE_KAFKA_READ_FETCH_MAX_WAIT_MS", "75")).reader("g", Map.of()))
            .containsEntry(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 75).containsEntry(ConsumerConfig.GROUP_ID_CONFIG, "g");

        assertThatThrownBy(() -> KafkaClients.of("b:9092", Map.of("SHARDLINE_KAFKA_READ_FETCH_MAX_WAIT_MS", "5000")))
            .isInstanceOf(ConfigException.class).hasMessageContaining(KafkaClients.READ_FETCH_MAX_WAIT_MS);
        assertThatThrownBy(() -> KafkaClients.of("b:9092", Map.of("SHARDLINE_KAFKA_TRANSACTIONAL_ID", "t")))
            .isInstanceOf(ConfigException.class).hasMessageContaining("SHARDLINE_KAFKA_TRANSACTIONAL_ID");
        assertThatThrownBy(() -> KafkaClients.of("", Map.of()))
            .isInstanceOf(ConfigException.class).hasMessageContaining("bootstrap.servers");
    }

    @Test
    void shouldNotLetTheEnvironmentOverrideWhatAClientNeedsToBeCorrect() {
        KafkaClients clients = KafkaClients.of("b:9092", Map.of("SHARDLINE_KAFKA_ISOLATION_LEVEL", "read_uncommitted",
            "SHARDLINE_KAFKA_ACKS", "1", "SHARDLINE_KAFKA_ENABLE_AUTO_COMMIT", "true"));

        assertThat(clients.reader("g", Map.of())).containsEntry(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
            .containsEntry(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        assertThat(clients.producer(Map.of())).containsEntry(ProducerConfig.ACKS_CONFIG, "all");
        assertThat(clients.producer(Map.of(ProducerConfig.LINGER_MS_CONFIG, 5))).containsEntry(ProducerConfig.LINGER_MS_CONFIG, 5);
    }
}
