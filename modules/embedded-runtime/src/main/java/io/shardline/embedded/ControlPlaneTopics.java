package io.shardline.embedded;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.Topic;
import io.shardline.schemas.TopicCatalog;

/** Creates the control-plane topics of a catalog with their cleanup policies, leaving existing ones alone. */
public final class ControlPlaneTopics {

    private ControlPlaneTopics() {
    }

    /** @return the names of the topics this call created (a topic that appeared meanwhile is left as it is) */
    public static List<String> ensure(String bootstrapServers, TopicCatalog catalog, short replicationFactor) {
        return create(bootstrapServers, catalog.all().stream().map(topic -> newTopic(topic, replicationFactor)).toList());
    }

    /**
     * Creates the CDC topic of every shard and namespace ({@code cdc.<shard>.<ns>}, delete policy, kept
     * {@link TopicCatalog#CDC_RETENTION}) before Debezium's first change creates it. A Kafka Streams pattern
     * subscription that sees a new topic appear while it runs rebalances, and on Kafka 4.3 its stream thread can fail
     * doing so ("topic is unknown to the topology") and is replaced, stalling the controller for a session timeout;
     * topics that exist before the controller starts are subscribed from the start.
     *
     * @return the names of the topics this call created
     */
    public static List<String> ensureCdc(String bootstrapServers, Collection<String> shardIds, Collection<String> namespaces, short replicationFactor) {
        List<NewTopic> topics = new ArrayList<>();
        for (String shard : shardIds) {
            for (String namespace : namespaces) {
                topics.add(new NewTopic(TopicCatalog.cdcTopic(shard, namespace), 1, replicationFactor).configs(Map.of(
                    "cleanup.policy", "delete", "retention.ms", Long.toString(TopicCatalog.CDC_RETENTION.toMillis()))));
            }
        }
        return create(bootstrapServers, topics);
    }

    private static List<String> create(String bootstrapServers, List<NewTopic> topics) {
        try (Admin admin = KafkaClients.fromEnvironment(bootstrapServers).admin()) {
            Set<String> existing = admin.listTopics().names().get();
            List<NewTopic> missing = topics.stream().filter(topic -> !existing.contains(topic.name())).toList();
            List<String> created = new ArrayList<>();
            for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> creation : admin.createTopics(missing).values().entrySet()) {
                try {
                    creation.getValue().get();
                    created.add(creation.getKey());
                } catch (ExecutionException e) {
                    // Someone else created it since the listing (Connect's first change, another role starting), the
                    // listing lagged behind, or the admin client retried a request whose first attempt had created
                    // it: either way the topic exists, which is all this asks for.
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            return created;
        } catch (ExecutionException e) {
            throw new IllegalStateException("creating topics failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
    }

    private static NewTopic newTopic(Topic<?, ?> topic, short replicationFactor) {
        return new NewTopic(topic.name(), topic.partitions(), replicationFactor).configs(topic.brokerConfig());
    }
}
