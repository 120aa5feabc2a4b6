package io.shardline.backup;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;

import io.shardline.schemas.KafkaClients;

/** How long the CDC topics ({@code cdc.*}) keep changes: the point-in-time window no backup can reach past. */
final class CdcRetention {

    private CdcRetention() {
    }

    /** The CDC topics whose {@code retention.ms} is shorter than {@code window}, and what each keeps. */
    static Map<String, Duration> shorterThan(String bootstrapServers, Duration window) {
        Map<String, Duration> shorter = new TreeMap<>();
        try (Admin admin = Admin.create(KafkaClients.fromEnvironment(bootstrapServers).common())) {
            List<ConfigResource> topics = admin.listTopics().names().get().stream().filter(name -> name.startsWith("cdc."))
                .map(name -> new ConfigResource(ConfigResource.Type.TOPIC, name)).toList();
            if (topics.isEmpty()) {
                return shorter;
            }
            for (Map.Entry<ConfigResource, Config> entry : admin.describeConfigs(topics).all().get().entrySet()) {
                var retention = entry.getValue().get(TopicConfig.RETENTION_MS_CONFIG);
                long millis = retention == null ? -1 : Long.parseLong(retention.value());
                if (millis >= 0 && millis < window.toMillis()) {
                    shorter.put(entry.getKey().name(), Duration.ofMillis(millis));
                }
            }
            return shorter;
        } catch (ExecutionException e) {
            throw new BackupException("reading the CDC topics' retention failed: " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackupException("interrupted while reading the CDC topics' retention", e);
        }
    }
}
