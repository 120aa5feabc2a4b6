package io.shardline.bench;

import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.bson.Document;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;
import io.shardline.router.api.FindRequest;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.shard.EmbeddedShard;
import io.shardline.shard.EmbeddedShardConfig;

/**
 * Throughput as shards are added: the same workload (finds by shard key, from a fixed number of clients per shard)
 * through one router over a namespace spread on 1, 2, 4 and 8 shards, each shard given a fixed service time per
 * command so that it is bound by its latency, as a real shard on its own machine would be, rather than by the two
 * cores every shard here shares. Efficiency at n shards is its throughput over n times the one-shard throughput.
 */
final class ScalingBench {

    private static final String TENANT = "bench";
    private static final int[] SHARD_COUNTS = {1, 2, 4, 8};
    private static final Duration SERVICE_TIME = Duration.ofMillis(20);
    private static final int CLIENTS_PER_SHARD = 8;

    private final int documents;
    private final Duration duration;

    ScalingBench(double scale) {
        this.documents = BenchMain.scaled(4_000, scale);
        this.duration = Duration.ofMillis(Math.max(2_000, Math.round(15_000 * scale)));
    }

    List<String> run() throws Exception {
        List<String> lines = new ArrayList<>();
        List<EmbeddedShard> shards = new ArrayList<>();
        try (EmbeddedCluster cluster = EmbeddedCluster.start(EmbeddedClusterConfig.defaults(Files.createTempDirectory("shardline-scaling-bench-"))
            .withShards(1).withCdc(false))) {
            int most = SHARD_COUNTS[SHARD_COUNTS.length - 1];
            List<String> ids = new ArrayList<>();
            try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), cluster.catalog())) {
                for (int i = 1; i <= most; i++) {
                    String id = "slow" + i;
                    EmbeddedShard shard = EmbeddedShard.start(id, EmbeddedShardConfig.defaults(id).withServiceTime(SERVICE_TIME));
                    shards.add(shard);
                    ids.add(id);
                    publisher.publishShard(ShardDescriptor.newBuilder().setShardId(id).setConnectionString(shard.connectionString())
                        .setCapacityBytes(1L << 30).setCapacityOpsPerSec(10_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now())
                        .build());
                }
                for (int count : SHARD_COUNTS) {
                    String ns = namespace(count);
                    publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(ns).setStrategy(ShardKeyStrategyType.HASHED)
                        .setShardKeyFields(List.of("_id")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
                    publisher.publishRouting(ns, InitialChunks.layout(ns, 1, InitialChunks.hashedBoundaries(count), ids.subList(0, count)));
                }
            }
            try (ShardRouter router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), cluster.catalog())
                .withShardPoolSize(CLIENTS_PER_SHARD * most), new SimpleMeterRegistry(), Duration.ofSeconds(60))) {
                double single = 0;
                for (int count : SHARD_COUNTS) {
                    load(router, namespace(count));
                    double opsPerSec = measure(router, namespace(count), CLIENTS_PER_SHARD * count);
                    if (count == 1) {
                        single = opsPerSec;
                    }
                    lines.add(String.format("%d shard(s), %d clients: %,.0f finds/s, efficiency %.0f%% (goal >= 80%% at 8)", count,
                        CLIENTS_PER_SHARD * count, opsPerSec, 100 * opsPerSec / (count * single)));
                }
            }
        } finally {
            shards.forEach(EmbeddedShard::close);
        }
        lines.add(String.format("(each shard serves every command in at least %d ms; %d clients per shard each run a find by shard key in a loop for %d s)",
            SERVICE_TIME.toMillis(), CLIENTS_PER_SHARD, duration.toSeconds()));
        return lines;
    }

    private static String namespace(int count) {
        return "bench.scale" + count;
    }

    private void load(ShardRouter router, String ns) {
        List<Document> batch = new ArrayList<>();
        for (int i = 0; i < documents; i++) {
            batch.add(new Document("_id", "u" + i).append("name", "user " + i));
        }
        router.insert(TENANT, ns, batch);
    }

    private double measure(ShardRouter router, String ns, int clients) throws InterruptedException {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong finds = new AtomicLong();
        AtomicLong failures = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Thread thread = new Thread(() -> {
                while (running.get()) {
                    String id = "u" + ThreadLocalRandom.current().nextInt(documents);
                    try {
                        if (router.find(TENANT, ns, FindRequest.of(new Document("_id", id))).documents().size() == 1) {
                            finds.incrementAndGet();
                        } else {
                            failures.incrementAndGet();
                        }
                    } catch (RuntimeException e) {
                        failures.incrementAndGet();
                    }
                }
            }, "scaling-client-" + c);
            thread.start();
            threads.add(thread);
        }
        long started = System.nanoTime();
        Thread.sleep(duration.toMillis());
        long counted = finds.get();
        long elapsed = System.nanoTime() - started;
        running.set(false);
        for (Thread thread : threads) {
            thread.join();
        }
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " finds on " + ns + " failed or found nothing");
        }
        return counted / (elapsed / 1e9);
    }
}
