package io.shardline.embedded;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

import io.shardline.schemas.Topic;
import io.shardline.schemas.TopicCatalog;

/** Creates the control-plane topics of a catalog with their cleanup policies, leaving existing ones alone. */
public final class ControlPlaneTopics {

    private ControlPlaneTopics() {
    }

    /** @return the names of the topics that had to be created */
    public static List<String> ensure(String bootstrapServers, TopicCatalog catalog, short replicationFactor) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = catalog.all().stream()
                .filter(topic -> !existing.contains(topic.name()))
                .map(topic -> newTopic(topic, replicationFactor))
                .toList();
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get();
            }
            return missing.stream().map(NewTopic::name).toList();
        } catch (ExecutionException e) {
            throw new IllegalStateException("creating the control-plane topics failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating the control-plane topics", e);
        }
    }

    private static NewTopic newTopic(Topic<?, ?> topic, short replicationFactor) {
        return new NewTopic(topic.name(), 1, replicationFactor).configs(topic.brokerConfig());
    }
}
