package io.shardline.backup;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.testing.TestNames;

/**
 * A namespace hashed on {@code userId} in two chunks on s1, a router in this JVM, the control plane's client, and a
 * ledger: one writer inserting, updating and deleting documents of several BSON types through the router, recording
 * for every write when it was sent and when it was acknowledged, so the namespace's exact state at any moment between
 * two writes is known.
 */
final class BackupFixture implements AutoCloseable {

    static final String TENANT = "acme";

    final EmbeddedCluster cluster;
    final TopicCatalog catalog;
    final String namespace;
    final ShardRouter router;
    final ControlPlaneClient plane;
    final List<Chunk> chunks;

    BackupFixture(EmbeddedCluster cluster, TestNames names) throws Exception {
        this.cluster = cluster;
        this.catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
        this.namespace = names.database() + ".users";
        ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), List.of("s1", "s2"), List.of(namespace), (short) 1);
        this.plane = new ControlPlaneClient(cluster.bootstrapServers(), catalog, "test");
        ControlPlanePublisher publisher = plane.publisher();
        for (String shard : List.of("s1", "s2")) {
            publisher.publishShard(ShardDescriptor.newBuilder().setShardId(shard).setConnectionString(cluster.shards().get(shard).connectionString())
                .setCapacityBytes(1L << 30).setCapacityOpsPerSec(100_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
        }
        publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(namespace).setStrategy(ShardKeyStrategyType.HASHED)
            .setShardKeyFields(List.of("userId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
        List<ShardKey> cuts = InitialChunks.hashedBoundaries(2);
        this.chunks = InitialChunks.layout(namespace, 1, cuts, List.of("s1", "s1"));
        publisher.publishRouting(namespace, chunks);
        this.router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), catalog), new SimpleMeterRegistry(), Duration.ofSeconds(60));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!router.namespaces().contains(namespace) || !router.leaseValid()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the router never saw " + namespace);
            }
            Thread.sleep(50);
        }
    }

    ClusterBackups backups(Path root) {
        return new ClusterBackups(plane, new ShardBackup.Settings(root, false, Duration.ofSeconds(60)), "test", new SimpleMeterRegistry());
    }

    /** A document of the ledger: several BSON types, so that a restore that changes one shows. */
    static Document document(String id, int value) {
        return new Document("_id", id).append("userId", id).append("v", value).append("big", (1L << 40) + value).append("ratio", value / 7.0)
            .append("at", new Date(1_700_000_000_000L + value)).append("tags", List.of("t" + value % 3, "x")).append("profile",
                new Document("name", "user " + id).append("level", value % 5)).append("tenantId", TENANT);
    }

    /** The namespace's documents on a shard, by id, without the stored shard key. */
    static Map<String, Document> contents(String connectionString, String namespace) {
        Map<String, Document> byId = new HashMap<>();
        int dot = namespace.indexOf('.');
        try (MongoClient client = MongoClients.create(connectionString)) {
            for (Document doc : client.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1)).find()) {
                doc.remove(ShardKey.DOCUMENT_FIELD);
                byId.put(doc.getString("_id"), doc);
            }
        }
        return byId;
    }

    /** One acknowledged write: sent and acknowledged (epoch ms), the id, and the document after it ({@code null}: deleted). */
    record Write(long sentAt, long ackedAt, String id, Document after) {
    }

    /** One thread writing through the router with a pause between writes, so that moments between two writes exist. */
    final class Ledger implements AutoCloseable {
        final List<Write> writes = java.util.Collections.synchronizedList(new ArrayList<>());
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Ledger(long seed) {
            this.thread = new Thread(() -> run(seed), "ledger");
            thread.start();
        }

        private void run(long seed) {
            Random random = new Random(seed);
            List<String> live = new ArrayList<>();
            Map<String, Document> current = new HashMap<>();
            int next = 0;
            while (running.get()) {
                int choice = random.nextInt(10);
                int value = random.nextInt(1_000_000);
                long sent = System.currentTimeMillis();
                String id;
                Document after;
                if (choice < 5 || live.size() < 20) {
                    id = "u" + next++;
                    after = document(id, value);
                    router.insert(TENANT, namespace, List.of(document(id, value)));
                    live.add(id);
                } else if (choice < 8) {
                    id = live.get(random.nextInt(live.size()));
                    after = new Document(current.get(id)).append("v", value);
                    router.update(TENANT, namespace, new Document("_id", id).append("userId", id), new Document("$set", new Document("v", value)), false, false);
                } else {
                    id = live.remove(random.nextInt(live.size()));
                    after = null;
                    router.delete(TENANT, namespace, new Document("_id", id).append("userId", id), false);
                }
                current.put(id, after);
                writes.add(new Write(sent, System.currentTimeMillis(), id, after));
                try {
                    Thread.sleep(4);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        /** A moment between two writes, at or after {@code notBefore}: every write before it is acknowledged, none after it sent. */
        long quietMomentAfter(long notBefore) {
            synchronized (writes) {
                for (int i = 0; i + 1 < writes.size(); i++) {
                    Write write = writes.get(i);
                    Write following = writes.get(i + 1);
                    if (write.ackedAt() >= notBefore && following.sentAt() - write.ackedAt() >= 2) {
                        return write.ackedAt() + 1;
                    }
                }
            }
            throw new AssertionError("no moment between two writes after " + Instant.ofEpochMilli(notBefore));
        }

        /** The namespace's documents at a moment that {@link #quietMomentAfter} chose. */
        Map<String, Document> stateAt(long moment) {
            Map<String, Document> state = new HashMap<>();
            synchronized (writes) {
                for (Write write : writes) {
                    if (write.ackedAt() > moment) {
                        break;
                    }
                    if (write.after() == null) {
                        state.remove(write.id());
                    } else {
                        state.put(write.id(), write.after());
                    }
                }
            }
            return state;
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(30_000);
        }
    }

    @Override
    public void close() throws Exception {
        router.close();
        plane.close();
    }
}
