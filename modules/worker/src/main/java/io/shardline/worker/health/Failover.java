package io.shardline.worker.health;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.mongodb.client.MongoClient;

import io.shardline.backup.ChangeRecord;
import io.shardline.schemas.ConnectRestClient;
import io.shardline.schemas.KafkaClients;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardHealth;
import io.shardline.standby.StandbyProgress;
import io.shardline.standby.StandbySinkConnector;
import io.shardline.worker.plane.ControlPlane;
import io.shardline.worker.plane.Ownership;

/**
 * Promotes the standby of a DOWN shard, in this order, each step a condition of the next:
 * <ol>
 *   <li>the standby answers;</li>
 *   <li>the shard's CDC connector is stopped, so nothing more reaches its topics;</li>
 *   <li>the standby has applied every change the shard's CDC topics captured (its sink's progress on the standby against
 *       the topics' end offsets): what the dead primary never delivered to Kafka is what a failover loses;</li>
 *   <li>the shard's records of its migrations (range deletions to run, ranges released) are written on it
 *       ({@link ShardRecords});</li>
 *   <li>it is marked promoted, so its sink applies nothing any more (the sink is deleted once the failover is
 *       published);</li>
 *   <li>the CDC connector is pointed at it, from a clean start at the standby's present (no snapshot, no old
 *       offsets: the standby's own history is the primary's replayed), and a marker document written to the standby is
 *       seen on a CDC topic: from here on every write to the standby is captured;</li>
 *   <li>the shard's descriptor names the standby as the shard (version + 1, UP): routers and workers follow it.</li>
 * </ol>
 * A step that fails publishes {@code FAILOVER_FAILED} with the reason; the shard stays DOWN and the health monitor tries
 * again later. Nothing is published to the shard's routing: its chunks stay where they are, on a shard whose address changed.
 */
final class Failover {

    private static final Logger LOG = LoggerFactory.getLogger(Failover.class);
    private static final Duration CONNECTOR_WAIT = Duration.ofSeconds(30);
    private static final Duration MARKER_WAIT = Duration.ofSeconds(15);

    private final ControlPlane plane;
    private final Ownership ownership;
    private final ConnectRestClient connect;
    private final Duration catchUpWithin;

    /** @param catchUpWithin how long the standby may take to apply what the CDC topics hold before the attempt is given up */
    Failover(ControlPlane plane, Ownership ownership, ConnectRestClient connect, Duration catchUpWithin) {
        this.plane = plane;
        this.ownership = ownership;
        this.connect = connect;
        this.catchUpWithin = catchUpWithin;
    }

    /** The name the CDC connector of a shard is first deployed under (the connector template's); a failover adds a suffix. */
    static String cdcConnector(String shardId) {
        return "shardline-cdc-" + shardId;
    }

    /** The connector that captures the shard's changes now (its {@code topic.prefix} is the shard's), not stopped; null if none. */
    private String capturing(String shardId) throws IOException, InterruptedException {
        String prefix = "cdc." + shardId;
        List<String> found = new java.util.ArrayList<>();
        connect.connectors().forEach((name, connector) -> {
            if (prefix.equals(connector.path("config").path("topic.prefix").asText(null)) && !"STOPPED".equals(connector.path("state").asText(null))) {
                found.add(name);
            }
        });
        if (found.size() > 1) {
            throw new IllegalStateException("several connectors capture " + prefix + ": " + found);
        }
        return found.isEmpty() ? null : found.get(0);
    }

    /**
     * Promotes the standby of {@code down}; true when the new descriptor is published. Nothing happens unless the
     * shard's descriptor is still {@code down} (same version, DOWN, same standby); once the CDC connector is stopped,
     * any step that fails undoes what was done (the new connector deleted, the promotion mark removed, the old connector
     * resumed) so that the shard is left as it was: DOWN, captured at its own address, its standby fed.
     */
    boolean promote(ShardDescriptor down) throws InterruptedException {
        String shardId = down.getShardId();
        String standbyUri = down.getStandbyConnectionString();
        if (!unchanged(down, plane.shards().refresh().get(shardId))) {
            LOG.info("failover of {} skipped: its descriptor changed since it was found DOWN", shardId);
            return false;
        }
        long started = System.nanoTime();
        try (MongoClient standby = StandbySeeder.client(standbyUri, Duration.ofSeconds(2))) {
            try {
                standby.getDatabase("admin").runCommand(new Document("ping", 1));
            } catch (RuntimeException unreachable) {
                return failed(down, "its standby " + standbyUri + " does not answer either: " + unreachable.getMessage());
            }
            String cdc = capturing(shardId);
            if (cdc == null) {
                return failed(down, "Kafka Connect has no connector capturing " + TopicCatalog.cdcTopic(shardId, "*") + " to point at the standby");
            }
            Map<String, String> config = connect.config(cdc);
            ownership.check();
            Steps steps = new Steps(cdc, standby);
            try {
                boolean published = steps.run(down, config, started);
                if (published) {
                    steps.cleanUp(shardId);
                }
                return published;
            } finally {
                if (!steps.published) {
                    steps.undo(shardId);
                }
            }
        } catch (IOException e) {
            return failed(down, "Kafka Connect: " + e.getMessage());
        } catch (IllegalStateException | com.mongodb.MongoException e) {
            return failed(down, e.getMessage());
        }
    }

    /** True while the shard's descriptor is the one found DOWN: a newer one (UP again, another failover) wins. */
    private static boolean unchanged(ShardDescriptor down, ShardDescriptor current) {
        return current != null && current.getVersion() == down.getVersion() && current.getHealth() == ShardHealth.DOWN
            && down.getStandbyConnectionString().equals(current.getStandbyConnectionString());
    }

    /** The steps of one failover after the shard's CDC connector is found, and what undoes them. */
    private final class Steps {
        private final String cdc;
        private final MongoClient standby;
        private boolean stopped;
        private boolean marked;
        private String created;
        private boolean published;

        Steps(String cdc, MongoClient standby) {
            this.cdc = cdc;
            this.standby = standby;
        }

        boolean run(ShardDescriptor down, Map<String, String> config, long started) throws IOException, InterruptedException {
            String shardId = down.getShardId();
            String standbyUri = down.getStandbyConnectionString();
            // Stopped first: a change the connector still held in flight is in the topics before the catch-up is measured.
            connect.stop(cdc);
            stopped = true;
            awaitState(cdc, "STOPPED");
            long stoppedAt = System.nanoTime();
            Map<String, Long> behind = awaitCaughtUp(shardId, standby);
            if (!behind.isEmpty()) {
                return failed(down, "its standby has not applied every captured change within " + catchUpWithin.toMillis() + " ms (still behind: " + behind + ")");
            }
            Map<String, Long> reported = StandbyProgress.reported(standby);
            long caughtUp = System.nanoTime();
            ownership.check();
            int records = ShardRecords.restore(plane, shardId, standby);
            // The sink applies nothing once the standby says it is promoted (it checks before each batch); it is
            // deleted once the failover is published, which takes Connect seconds (a rebalance) that writes need not wait.
            StandbyProgress.markPromoted(standby);
            marked = true;
            long markedAt = System.nanoTime();

            // A connector of a new name, with no offsets: resetting the old one's took Connect 4 s in FailoverIT.
            String next = cdcConnector(shardId) + "-" + (down.getVersion() + 1);
            config.put("name", next);
            config.put("mongodb.connection.string", standbyUri);
            config.put("snapshot.mode", "no_data");
            // Its own metric names: the old connector's task, stuck on a shard cut off by a partition, may still hold
            // the names both would share (server=<topic prefix>, task=0), and Debezium waits 5 s per try for them.
            config.put("custom.metric.tags", "connector=" + next);
            connect.delete(next);
            created = next;
            connect.configure(next, config);
            connect.awaitRunning(next, CONNECTOR_WAIT);
            long running = System.nanoTime();
            awaitCaptured(shardId, standby);
            long capturing = System.nanoTime();
            LOG.info("failover of {}: connector {} running in {} ms, capturing in {} ms", shardId, next, (running - markedAt) / 1_000_000,
                (capturing - running) / 1_000_000);

            Instant now = Instant.now();
            plane.atomically(() -> {
                ownership.check();
                ShardDescriptor current = plane.shards().get(shardId);
                if (!unchanged(down, current)) {
                    throw new IllegalStateException("the descriptor of " + shardId + " changed during the failover (now version "
                        + (current == null ? "none" : current.getVersion() + ", " + current.getHealth()) + ")");
                }
                plane.publishShard(ShardDescriptor.newBuilder(current).setConnectionString(standbyUri).setStandbyConnectionString(null)
                    .setFailedOverFrom(current.getConnectionString()).setFailedOverAt(now).setHealth(ShardHealth.UP).setHealthSince(now)
                    .setHealthCause(null).setVersion(current.getVersion() + 1).setUpdatedAt(now).build());
                Map<String, Double> figures = new TreeMap<>();
                figures.put("downMillis", (double) Duration.between(down.getHealthSince(), now).toMillis());
                figures.put("promotionMillis", (double) Duration.ofNanos(System.nanoTime() - started).toMillis());
                figures.put("stopMillis", (double) Duration.ofNanos(stoppedAt - started).toMillis());
                figures.put("catchUpMillis", (double) Duration.ofNanos(caughtUp - stoppedAt).toMillis());
                figures.put("sinkStopMillis", (double) Duration.ofNanos(markedAt - caughtUp).toMillis());
                figures.put("captureMillis", (double) Duration.ofNanos(capturing - markedAt).toMillis());
                figures.put("reportedTopics", (double) reported.size());
                figures.put("migrationRecords", (double) records);
                plane.event(ShardEventType.SHARD_FAILED_OVER, shardId, null, null, null, null, "shard " + shardId + " failed over from "
                    + current.getConnectionString() + " to its standby " + standbyUri + ", which had applied every captured change"
                    + (reported.isEmpty() ? "" : " but the records its sink sent to the dead-letter topic (newest per topic: " + reported + ")"),
                    figures);
            });
            published = true;
            LOG.warn("shard {} failed over to its standby {} in {} ms", shardId, standbyUri, Duration.ofNanos(System.nanoTime() - started).toMillis());
            return true;
        }

        /**
         * After the failover: the standby's sink and the old CDC connector go. The standby's progress records stay on
         * the promoted shard, frozen: they say which of the old primary's writes it holds, and routers still waiting
         * for its confirmation of a write read them there (durability STANDBY).
         */
        void cleanUp(String shardId) {
            for (String done : List.of(StandbySinkConnector.name(shardId), cdc)) {
                try {
                    connect.delete(done);
                } catch (IOException | InterruptedException leftBehind) {
                    // Harmless: the sink applies nothing to a promoted standby, and the old CDC connector is stopped.
                    LOG.warn("connector {} of the failed-over shard {} could not be deleted: {}", done, shardId, leftBehind.getMessage());
                }
            }
        }

        /** Undoes what this failover did, newest first; what cannot be undone is logged for the operator. */
        void undo(String shardId) {
            try {
                if (created != null) {
                    connect.delete(created);
                }
                if (marked) {
                    StandbyProgress.unmarkPromoted(standby);
                }
                if (stopped) {
                    connect.resume(cdc);
                }
            } catch (IOException | RuntimeException e) {
                LOG.error("undoing the failed failover of {} failed (new connector {}, promotion mark {}, connector {} stopped {}): {}", shardId,
                    created, marked, cdc, stopped, e.toString(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                LOG.error("undoing the failed failover of {} was interrupted (new connector {}, promotion mark {}, connector {} stopped {})",
                    shardId, created, marked, cdc, stopped);
            }
        }
    }

    /** The namespaces whose CDC topic holds changes the standby has not applied, after waiting up to {@link #catchUpWithin}. */
    private Map<String, Long> awaitCaughtUp(String shardId, MongoClient standby) throws InterruptedException {
        long deadline = System.nanoTime() + catchUpWithin.toNanos();
        while (true) {
            Map<String, Long> behind = new TreeMap<>();
            Map<String, Long> applied = StandbyProgress.applied(standby);
            plane.cdcEnds(shardId).forEach((namespace, end) -> {
                long done = applied.getOrDefault(TopicCatalog.cdcTopic(shardId, namespace), -1L) + 1;
                if (done < end) {
                    behind.put(namespace, end - done);
                }
            });
            if (behind.isEmpty() || System.nanoTime() > deadline) {
                return behind;
            }
            Thread.sleep(20);
        }
    }

    private void awaitState(String connector, String state) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + CONNECTOR_WAIT.toNanos();
        while (!state.equals(connect.state(connector))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("connector " + connector + " not " + state + " after " + CONNECTOR_WAIT.toSeconds() + " s");
            }
            Thread.sleep(20);
        }
    }

    /**
     * Writes a marker document to the standby, in one of the shard's namespaces, and waits for its change on that
     * namespace's CDC topic: the connector streams from the standby. The marker is deleted again.
     */
    private void awaitCaptured(String shardId, MongoClient standby) throws InterruptedException {
        List<String> namespaces = StandbySeeder.namespaces(standby);
        if (namespaces.isEmpty()) {
            return;
        }
        String namespace = namespaces.get(0);
        String topic = TopicCatalog.cdcTopic(shardId, namespace);
        TopicPartition partition = new TopicPartition(topic, 0);
        String markerId = "shardline:failover:" + UUID.randomUUID();
        int dot = namespace.indexOf('.');
        var collection = standby.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1));
        try (KafkaConsumer<byte[], byte[]> consumer = KafkaClients.fromEnvironment(plane.bootstrapServers()).bytesReader(null, Map.of())) {
            consumer.assign(List.of(partition));
            consumer.seekToEnd(List.of(partition));
            consumer.position(partition);
            long deadline = System.nanoTime() + MARKER_WAIT.toNanos();
            long nextWrite = 0;
            while (System.nanoTime() < deadline) {
                if (System.nanoTime() >= nextWrite) {
                    // Written again until seen: the connector may open its change stream after the first write.
                    collection.replaceOne(new Document("_id", markerId), new Document("_id", markerId).append(ChangeRecord.MARKER_FIELD, true)
                        .append("at", new java.util.Date()), new com.mongodb.client.model.ReplaceOptions().upsert(true));
                    nextWrite = System.nanoTime() + Duration.ofMillis(500).toNanos();
                }
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
                    if (isMarker(record, markerId)) {
                        collection.deleteOne(new Document("_id", markerId));
                        return;
                    }
                }
            }
        }
        collection.deleteOne(new Document("_id", markerId));
        throw new IllegalStateException("the CDC connector did not capture a change on the standby within " + MARKER_WAIT.toSeconds() + " s");
    }

    private static boolean isMarker(ConsumerRecord<byte[], byte[]> record, String markerId) {
        if (record.key() == null) {
            return false;
        }
        try {
            var id = ChangeRecord.documentId(record.key());
            return id.isString() && markerId.equals(id.asString().getValue());
        } catch (IllegalArgumentException unreadable) {
            // The sink's dead-letter handling reports such records; here it is just not the marker.
            return false;
        }
    }

    private boolean failed(ShardDescriptor down, String why) {
        LOG.warn("failover of shard {} failed: {}", down.getShardId(), why);
        try {
            plane.event(ShardEventType.FAILOVER_FAILED, down.getShardId(), null, null, null, null, "shard " + down.getShardId()
                + " is DOWN and was not failed over: " + why, Map.of());
        } catch (RuntimeException notPublished) {
            LOG.warn("the FAILOVER_FAILED event of {} could not be published: {}", down.getShardId(), notPublished.toString());
        }
        return false;
    }
}
