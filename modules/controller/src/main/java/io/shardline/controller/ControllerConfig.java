package io.shardline.controller;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

import io.shardline.schemas.TopicCatalog;
import io.shardline.topology.balancer.BalancerSettings;

/**
 * Settings of the controller role.
 *
 * @param applicationId    Kafka Streams application id; controllers with the same id share the work
 * @param stateDir         where the topologies keep their local state
 * @param commitInterval   how often processing commits (exactly-once: also how often results become visible)
 * @param topicRefresh     how soon a new shard's CDC topics are picked up by the pattern subscription
 * @param cdcTopicPrefix   prefix of the CDC topics, without the trailing dot
 * @param dbStatsInterval  how often each registered shard's {@code dbStats} is read to correct the CDC-derived sizes
 * @param balancer         how split and merge decisions are made (window, cap, cooldown, command timeout, minimum active
 *                         shards, merge headroom)
 */
public record ControllerConfig(String bootstrapServers, TopicCatalog catalog, String applicationId, Path stateDir,
                               Duration commitInterval, Duration topicRefresh, String cdcTopicPrefix, Duration dbStatsInterval,
                               BalancerSettings balancer) {

    public ControllerConfig {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Objects.requireNonNull(catalog, "catalog");
        Objects.requireNonNull(applicationId, "applicationId");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(commitInterval, "commitInterval");
        Objects.requireNonNull(topicRefresh, "topicRefresh");
        Objects.requireNonNull(cdcTopicPrefix, "cdcTopicPrefix");
        Objects.requireNonNull(dbStatsInterval, "dbStatsInterval");
        Objects.requireNonNull(balancer, "balancer");
        if (dbStatsInterval.toMillis() < 100) {
            throw new IllegalArgumentException("dbStatsInterval must be at least 100 ms, was " + dbStatsInterval);
        }
        if (!applicationId.matches("[a-zA-Z0-9._-]+")) {
            throw new IllegalArgumentException("applicationId may hold only letters, digits, '.', '_' and '-', was " + applicationId);
        }
        if (commitInterval.toMillis() < 1 || topicRefresh.toMillis() < 100) {
            throw new IllegalArgumentException("commitInterval must be >= 1 ms and topicRefresh >= 100 ms");
        }
    }

    public static ControllerConfig defaults(String bootstrapServers, TopicCatalog catalog, Path stateDir) {
        return new ControllerConfig(bootstrapServers, catalog, catalog.prefix() + "controller", stateDir,
            Duration.ofMillis(200), Duration.ofSeconds(5), "cdc", Duration.ofSeconds(30), BalancerSettings.defaults());
    }

    public ControllerConfig withDbStatsInterval(Duration interval) {
        return new ControllerConfig(bootstrapServers, catalog, applicationId, stateDir, commitInterval, topicRefresh, cdcTopicPrefix, interval, balancer);
    }

    public ControllerConfig withStateDir(Path dir) {
        return new ControllerConfig(bootstrapServers, catalog, applicationId, dir, commitInterval, topicRefresh, cdcTopicPrefix, dbStatsInterval, balancer);
    }

    public ControllerConfig withBalancer(BalancerSettings settings) {
        return new ControllerConfig(bootstrapServers, catalog, applicationId, stateDir, commitInterval, topicRefresh, cdcTopicPrefix, dbStatsInterval, settings);
    }
}
