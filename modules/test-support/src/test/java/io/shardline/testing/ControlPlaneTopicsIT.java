package io.shardline.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;

@ShardlineCluster
class ControlPlaneTopicsIT {

    @Test
    void shouldCreateEveryTopicOfTheCatalogOnceWithItsCleanupPolicy(EmbeddedCluster cluster, TestNames names) throws Exception {
        TopicCatalog catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));

        List<String> created = ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        List<String> again = ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);

        List<String> all = catalog.all().stream().map(topic -> topic.name()).toList();
        assertThat(created).as("created by the first call (an admin-client retry may hide one)").isNotEmpty().isSubsetOf(all);
        assertThat(again).isEmpty();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            assertThat(listed(admin, all)).containsAll(all);
            ConfigResource routing = new ConfigResource(ConfigResource.Type.TOPIC, catalog.routing().name());
            ConfigResource events = new ConfigResource(ConfigResource.Type.TOPIC, catalog.events().name());
            Map<ConfigResource, Config> configs = admin.describeConfigs(Set.of(routing, events)).all().get();
            assertThat(configs.get(routing).get("cleanup.policy").value()).isEqualTo("compact");
            assertThat(configs.get(events).get("cleanup.policy").value()).isEqualTo("delete");
        }
    }

    @Test
    void shouldCreateTheCdcTopicOfEveryShardAndNamespaceOnceWithTheCdcRetention(EmbeddedCluster cluster, TestNames names) throws Exception {
        List<String> namespaces = List.of(names.database() + ".users", names.database() + ".sessions");

        List<String> created = ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), List.of("s1", "s2"), namespaces, (short) 1);
        List<String> again = ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), List.of("s1", "s2"), namespaces, (short) 1);

        List<String> wanted = List.of(TopicCatalog.cdcTopic("s1", namespaces.get(0)), TopicCatalog.cdcTopic("s1", namespaces.get(1)),
            TopicCatalog.cdcTopic("s2", namespaces.get(0)), TopicCatalog.cdcTopic("s2", namespaces.get(1)));
        assertThat(created).isNotEmpty().isSubsetOf(wanted);
        assertThat(again).isEmpty();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            assertThat(listed(admin, wanted)).containsAll(wanted);
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, created.get(0));
            Config config = admin.describeConfigs(Set.of(topic)).all().get().get(topic);
            assertThat(config.get("retention.ms").value()).isEqualTo(Long.toString(TopicCatalog.CDC_RETENTION.toMillis()));
        }
    }

    @Test
    void shouldHaveCreatedTheDefaultCatalogWhenTheClusterStarted(EmbeddedCluster cluster) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            Set<String> topics = admin.listTopics().names().get();
            assertThat(topics).contains("shardline.shards", "shardline.routing", "shardline.commands", "shardline.events");
        }
    }

    @Test
    void shouldLeaveTopicsThatAnotherCreatorMadeMeanwhileWithoutFailing(EmbeddedCluster cluster, TestNames names) throws Exception {
        TopicCatalog catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        List<String> reported = new java.util.ArrayList<>();
        try {
            List<java.util.concurrent.Future<List<String>>> runs = new java.util.ArrayList<>();
            for (int i = 0; i < 4; i++) {
                runs.add(pool.submit(() -> ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1)));
            }
            for (java.util.concurrent.Future<List<String>> run : runs) {
                reported.addAll(run.get());
            }
        } finally {
            pool.shutdownNow();
        }

        List<String> all = catalog.all().stream().map(topic -> topic.name()).toList();
        assertThat(reported).as("each topic created by one call at most").doesNotHaveDuplicates().isSubsetOf(all);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            assertThat(listed(admin, all)).containsAll(all);
        }
    }

    /** The topics the broker lists, once it lists the wanted ones or 15 s passed: a listing lags a creation a little. */
    private static Set<String> listed(Admin admin, List<String> wanted) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
        Set<String> names = admin.listTopics().names().get();
        while (!names.containsAll(wanted) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            names = admin.listTopics().names().get();
        }
        return names;
    }
}
