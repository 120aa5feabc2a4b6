package io.shardline.bench;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.bson.Document;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.CommandPlanner;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;
import io.shardline.router.api.Scope;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.schemas.avro.WriteDurability;
import io.shardline.shard.EmbeddedShard;
import io.shardline.worker.MigrationWorker;
import io.shardline.worker.config.WorkerConfig;

/**
 * What durability STANDBY costs, beside PRIMARY in the same run on the same shard with a standby: single-document
 * inserts through the router, first from one client alternating the two (latency), then from several clients, each
 * durability on its own (throughput). A STANDBY insert is acknowledged once the shard's standby has applied it, after
 * its trip through Debezium, Kafka and the standby's sink.
 */
final class DurabilityBench {

    private static final String NS = "bench.durable";
    private static final int CLIENTS = 8;

    private final int writes;

    DurabilityBench(double scale) {
        this.writes = BenchMain.scaled(1_000, scale);
    }

    List<String> run() throws Exception {
        List<String> lines = new ArrayList<>();
        try (EmbeddedCluster cluster = EmbeddedCluster.start(EmbeddedClusterConfig.defaults(Files.createTempDirectory("shardline-durability-bench-"))
                 .withShards(1));
             ControlPlaneClient plane = new ControlPlaneClient(cluster.bootstrapServers(), cluster.catalog(), "bench");
             EmbeddedShard standby = EmbeddedShard.start("s1-standby")) {
            TopicCatalog catalog = cluster.catalog();
            ControlPlaneTopics.ensure(cluster.bootstrapServers(), catalog, (short) 1);
            ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), List.of("s1"), List.of(NS), (short) 1);
            ControlPlanePublisher publisher = plane.publisher();
            publisher.publishShard(ShardDescriptor.newBuilder().setShardId("s1").setConnectionString(cluster.shards().get("s1").connectionString())
                .setCapacityBytes(1L << 34).setCapacityOpsPerSec(1_000_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
            publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(NS).setStrategy(ShardKeyStrategyType.HASHED)
                .setShardKeyFields(List.of("userId")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
            publisher.publishRouting(NS, InitialChunks.layout(NS, 1, InitialChunks.hashedBoundaries(2), List.of("s1", "s1")));
            try (MigrationWorker worker = MigrationWorker.start(WorkerConfig.defaults(cluster.bootstrapServers(), catalog)
                     .withConnectUrl(cluster.connectUrl()), new SimpleMeterRegistry());
                 ShardRouter router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), catalog), new SimpleMeterRegistry(),
                     Duration.ofSeconds(60))) {
                CommandPlanner.Planned planned = new CommandPlanner(plane).addStandby("s1", standby.connectionString());
                publisher.publishCommand(planned.key(), planned.command("bench", "the standby writes wait for"));
                awaitStandby(plane, standby.connectionString());
                AtomicInteger ids = new AtomicInteger();
                insert(router, WriteDurability.STANDBY, ids.incrementAndGet());

                List<Long> standbyMicros = new ArrayList<>();
                List<Long> primaryMicros = new ArrayList<>();
                for (int i = 0; i < 2 * writes; i++) {
                    boolean standbyTurn = i % 2 == 0;
                    long started = System.nanoTime();
                    insert(router, standbyTurn ? WriteDurability.STANDBY : WriteDurability.PRIMARY, ids.incrementAndGet());
                    (standbyTurn ? standbyMicros : primaryMicros).add((System.nanoTime() - started) / 1_000);
                }
                Collections.sort(standbyMicros);
                Collections.sort(primaryMicros);
                lines.add(String.format("insert.one_client standby.p50_ms=%.2f p99_ms=%.2f primary.p50_ms=%.2f p99_ms=%.2f ratio.p50=%.1f ratio.p99=%.1f "
                        + "(%d inserts each, alternating)", p(standbyMicros, 0.5), p(standbyMicros, 0.99), p(primaryMicros, 0.5), p(primaryMicros, 0.99),
                    p(standbyMicros, 0.5) / p(primaryMicros, 0.5), p(standbyMicros, 0.99) / p(primaryMicros, 0.99), writes));

                double standbyRate = throughput(router, WriteDurability.STANDBY, ids);
                double primaryRate = throughput(router, WriteDurability.PRIMARY, ids);
                lines.add(String.format("insert.%d_clients standby.per_s=%.0f primary.per_s=%.0f ratio=%.2f", CLIENTS, standbyRate, primaryRate,
                    standbyRate / primaryRate));
            }
        }
        return lines;
    }

    private double throughput(ShardRouter router, WriteDurability durability, AtomicInteger ids) throws InterruptedException {
        AtomicInteger done = new AtomicInteger();
        List<Thread> clients = new ArrayList<>();
        long started = System.nanoTime();
        for (int c = 0; c < CLIENTS; c++) {
            Thread client = new Thread(() -> {
                while (done.incrementAndGet() <= writes) {
                    insert(router, durability, ids.incrementAndGet());
                }
            }, "durability-bench-" + c);
            clients.add(client);
            client.start();
        }
        for (Thread client : clients) {
            client.join();
        }
        return writes / ((System.nanoTime() - started) / 1e9);
    }

    private static void insert(ShardRouter router, WriteDurability durability, int i) {
        router.insert(Scope.tenant("acme").withDurability(durability), NS, List.of(new Document("_id", "d" + i).append("userId", "u" + i).append("n", i)));
    }

    private static void awaitStandby(ControlPlaneClient plane, String uri) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (System.nanoTime() < deadline) {
            ShardDescriptor shard = plane.shards().get("s1");
            if (shard != null && uri.equals(shard.getStandbyConnectionString())) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the standby of s1 was not added within 120 s");
    }

    private static double p(List<Long> sortedMicros, double percentile) {
        return sortedMicros.get((int) Math.min(sortedMicros.size() - 1, Math.ceil(percentile * sortedMicros.size()) - 1)) / 1e3;
    }
}
