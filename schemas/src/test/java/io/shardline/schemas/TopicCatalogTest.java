package io.shardline.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TopicCatalogTest {

    private static final RegistrySerdes SERDES = new RegistrySerdes("http://127.0.0.1:1");

    @Test
    void shouldNameEveryControlPlaneTopicFromThePrefix() {
        TopicCatalog catalog = new TopicCatalog("acme.", SERDES);

        assertThat(catalog.all()).extracting(Topic::name).containsExactly(
            "acme.shards", "acme.config", "acme.routing", "acme.commands", "acme.commands.dlq", "acme.migrations",
            "acme.migration-lanes", "acme.query-load", "acme.stats", "acme.chunk-stats", "acme.dbstats", "acme.shard-sizes", "acme.chunk-sizes", "acme.key-samples", "acme.cdc.dlq", "acme.control.dlq", "acme.events", "acme.router-acks", "acme.acknowledged", "acme.alerts", "acme.txn", "acme.txn-decisions");
    }

    @Test
    void shouldCompactStateTopicsAndExpireLogTopics() {
        TopicCatalog catalog = new TopicCatalog(TopicCatalog.DEFAULT_PREFIX, SERDES);

        assertThat(catalog.routing().brokerConfig()).containsEntry("cleanup.policy", "compact");
        assertThat(catalog.txn().brokerConfig()).containsEntry("cleanup.policy", "compact");
        assertThat(catalog.txnDecisions().brokerConfig()).containsEntry("cleanup.policy", "delete")
            .containsEntry("retention.ms", String.valueOf(TopicCatalog.CDC_RETENTION.toMillis()));
        assertThat(catalog.events().brokerConfig()).containsEntry("cleanup.policy", "delete").containsKey("retention.ms");
        assertThat(catalog.alerts().brokerConfig()).containsEntry("cleanup.policy", "delete")
            .containsEntry("retention.ms", catalog.events().brokerConfig().get("retention.ms"));
    }

    @Test
    void shouldCreateTheMigrationLanesWithAPartitionPerLaneAndEveryOtherTopicWithOne() {
        TopicCatalog catalog = new TopicCatalog("acme.", SERDES);

        assertThat(catalog.migrationLanes().partitions()).isEqualTo(TopicCatalog.MIGRATION_LANES);
        assertThat(catalog.all()).filteredOn(topic -> topic != catalog.migrationLanes()).extracting(Topic::partitions).containsOnly(1);
        assertThatThrownBy(() -> new Topic<>("t", org.apache.kafka.common.serialization.Serdes.String(), org.apache.kafka.common.serialization.Serdes.String(),
            Topic.Cleanup.DELETE, java.time.Duration.ZERO, 0)).hasMessageContaining("at least one partition");
    }

    @Test
    void shouldRejectAPrefixKafkaCannotUseInTopicNames() {
        assertThatThrownBy(() -> new TopicCatalog("bad prefix/", SERDES)).hasMessageContaining("prefix");
    }

    @Test
    void shouldRejectARegistryUrlThatIsNotHttp() {
        assertThatThrownBy(() -> new RegistrySerdes("localhost:8081")).hasMessageContaining("http");
    }

    @Test
    void shouldOrderKeySamplesOfAChunkInsideItsRoutingKeyRange() {
        String min = TopicCatalog.routingKey("auth.users", "ab");
        String max = TopicCatalog.routingKey("auth.users", "ab00");

        assertThat(TopicCatalog.keySampleKey("auth.users", "ab", "s1", "{\"$oid\": \"1\"}")).isGreaterThan(min).isLessThan(max);
        assertThat(TopicCatalog.keySampleKey("auth.users", "ab00", "s1", "x")).isGreaterThan(max);
    }

    @Test
    void shouldNameCdcTopicsAsDebeziumDoes() {
        assertThat(TopicCatalog.cdcTopic("s1", "auth.users")).isEqualTo("cdc.s1.auth.users");
    }
}
