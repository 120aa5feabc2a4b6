package io.shardline.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;

import io.shardline.controlplane.ControlPlanePublisher;
import io.shardline.core.key.HashedKeyStrategy;
import io.shardline.core.routing.InitialChunks;
import io.shardline.core.routing.NamespaceRouting;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.router.api.FindRequest;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;
import io.shardline.router.http.RouterNode;
import io.shardline.router.wire.WireServer;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;

/**
 * The router against the driver, side by side in one run, on four embedded shards: single-shard finds by shard key
 * through the Java library and through HTTP vs the driver straight to the owning shard; a four-shard sorted
 * scatter-gather with a limit vs the same query pinned to one shard; then many concurrent HTTP connections.
 */
final class RouterBench {

    private static final String NS = "bench.users";
    /** The same documents on one shard, for the scatter-gather comparison. */
    private static final String SINGLE_NS = "bench.single";
    private static final String TENANT = "acme";
    private final int documents;
    private final int rounds;
    private final int connections;
    /**
     * Untimed rounds first: the router's own code runs only on its path, so it needs this many calls before the JIT
     * has compiled it as fully as the driver code every path shares.
     */
    private final int warmUp;

    RouterBench(double scale) {
        this.documents = BenchMain.scaled(20_000, scale);
        this.rounds = BenchMain.scaled(4_000, scale);
        this.connections = BenchMain.scaled(10_000, scale);
        this.warmUp = BenchMain.scaled(10_000, scale);
    }

    /**
     * The wire router against the driver, side by side in one run: single-shard finds by shard key and inserts through
     * the wire router vs the driver straight to the owning shard, then the four-shard sorted scatter-gather vs one shard,
     * both over the wire.
     */
    List<String> runWire() throws Exception {
        List<String> lines = new ArrayList<>();
        try (EmbeddedCluster cluster = EmbeddedCluster.start(EmbeddedClusterConfig.defaults(Files.createTempDirectory("shardline-wire-bench-"))
            .withShards(4).withCdc(false))) {
            NamespaceRouting routing = register(cluster);
            try (RouterNode node = RouterNode.start(RouterConfig.defaults(cluster.bootstrapServers(), cluster.catalog()), "127.0.0.1", 0,
                new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT),
                Duration.ofSeconds(60), io.shardline.router.http.RouterHttpServer.DEFAULT_MAX_BODY_BYTES, WireServer.Settings.defaults(0));
                 MongoClient wire = MongoClients.create(node.mongoUri())) {
                load(node.router());
                Map<String, MongoClient> direct = new LinkedHashMap<>();
                cluster.shards().forEach((id, shard) -> direct.put(id, MongoClients.create(shard.connectionString())));
                try {
                    lines.addAll(wireVsDriver(wire.getDatabase("bench"), routing, direct, node.router().meterRegistry()));
                    lines.add(wireScatterVsSingle(wire.getDatabase("bench")));
                    lines.add(PoolHighWater.during(node.router().meterRegistry(), cluster.shards().keySet(),
                        () -> loadGenerator(WireLoad.class, node.mongoUri(), "concurrent wire")));
                } finally {
                    direct.values().forEach(MongoClient::close);
                }
            }
        }
        return lines;
    }

    /**
     * Finds a router served (count, total nanoseconds, from {@code requests}: its wire commands or HTTP requests) and the
     * find calls it made to shards, from its meters.
     */
    private static double[] findFigures(io.micrometer.core.instrument.MeterRegistry registry, String requests, String tag) {
        double[] figures = new double[4];
        for (io.micrometer.core.instrument.Timer timer : registry.find(requests).tag(tag, "find").timers()) {
            figures[0] += timer.count();
            figures[1] += timer.totalTime(TimeUnit.NANOSECONDS);
        }
        for (io.micrometer.core.instrument.Timer timer : registry.find("shard.query.latency").tag("operation", "find").timers()) {
            figures[2] += timer.count();
            figures[3] += timer.totalTime(TimeUnit.NANOSECONDS);
        }
        return figures;
    }

    private List<String> wireVsDriver(com.mongodb.client.MongoDatabase wire, NamespaceRouting routing, Map<String, MongoClient> direct,
                                      io.micrometer.core.instrument.MeterRegistry routerMeters) {
        HashedKeyStrategy strategy = new HashedKeyStrategy("_id");
        Latencies findWire = new Latencies(rounds);
        Latencies findDriver = new Latencies(rounds);
        Latencies insertWire = new Latencies(rounds);
        Latencies insertDriver = new Latencies(rounds);
        Random random = new Random(13);
        MongoCollection<Document> users = wire.getCollection("users");
        double[] before = null;
        for (int i = 0; i < rounds + warmUp; i++) {
            final int round = i;
            if (round == warmUp) {
                before = findFigures(routerMeters, "shardline.wire.commands", "command");
            }
            String id = "u" + random.nextInt(documents);
            MongoCollection<Document> owner = owner(routing, strategy, direct, id);
            Document filter = new Document("tenantId", TENANT).append("_id", id);
            String newId = "w" + i;
            MongoCollection<Document> directInserts = direct.get(routing.chunkFor(strategy.keyOf(Map.of("_id", newId))).shardId())
                .getDatabase("bench").getCollection("direct");
            List<Runnable> calls = new ArrayList<>(List.of(
                () -> time(round, findDriver, () -> owner.find(filter).projection(new Document("_sk", 0)).first()),
                () -> time(round, findWire, () -> users.find(filter).first()),
                () -> time(round, insertDriver, () -> directInserts.insertOne(new Document("_id", newId).append("tenantId", TENANT))),
                () -> time(round, insertWire, () -> users.insertOne(new Document("_id", newId).append("tenantId", TENANT)))));
            java.util.Collections.shuffle(calls, random);
            calls.forEach(Runnable::run);
        }
        double[] after = findFigures(routerMeters, "shardline.wire.commands", "command");
        double commandMean = (after[1] - before[1]) / Math.max(1, after[0] - before[0]) / 1_000;
        double shardMean = (after[3] - before[3]) / Math.max(1, after[2] - before[2]) / 1_000;
        return List.of(
            String.format("wire router vs the driver straight to the owning shard (n=%d each, the four calls in a random order each round)", rounds),
            ratio("  single-shard find by shard key", findWire, findDriver),
            ratio("  insert one document", insertWire, insertDriver),
            String.format("  where a wire find's time goes (means): client sees %.0fus = shard call %.0fus + router's own work %.0fus"
                    + " + client-router transport, framing and hand-overs %.0fus (the driver straight to a shard: %.0fus)",
                findWire.meanMicros(), shardMean, commandMean - shardMean, findWire.meanMicros() - commandMean, findDriver.meanMicros()));
    }

    private static String ratio(String what, Latencies router, Latencies driver) {
        return String.format("%s: wire p50=%.0fus p99=%.0fus, driver p50=%.0fus p99=%.0fus  ratio p50=%.2f p99=%.2f", what,
            router.percentileMicros(50), router.percentileMicros(99), driver.percentileMicros(50), driver.percentileMicros(99),
            router.percentileMicros(50) / driver.percentileMicros(50), router.percentileMicros(99) / driver.percentileMicros(99));
    }

    private String wireScatterVsSingle(com.mongodb.client.MongoDatabase wire) {
        Latencies scatter = new Latencies(rounds / 4);
        Latencies single = new Latencies(rounds / 4);
        Document filter = new Document("tenantId", TENANT).append("score", new Document("$gte", 50_000));
        Document sort = new Document("score", -1).append("_id", 1);
        for (int i = 0; i < rounds / 4 + 100; i++) {
            long a = System.nanoTime();
            wire.getCollection("users").find(filter).sort(sort).limit(10).into(new ArrayList<>());
            long b = System.nanoTime();
            wire.getCollection("single").find(filter).sort(sort).limit(10).into(new ArrayList<>());
            long c = System.nanoTime();
            if (i >= 100) {
                scatter.add(b - a);
                single.add(c - b);
            }
        }
        return String.format("wire: sorted find with limit 10, same %d documents: 4-shard scatter-gather p50=%.0fus vs one shard p50=%.0fus"
            + "  ratio=%.2f", documents, scatter.percentileMicros(50), single.percentileMicros(50),
            scatter.percentileMicros(50) / single.percentileMicros(50));
    }

    private static NamespaceRouting register(EmbeddedCluster cluster) {
        List<String> shards = new ArrayList<>(cluster.shards().keySet());
        NamespaceRouting routing = NamespaceRouting.of(NS, InitialChunks.layout(NS, 1, InitialChunks.hashedBoundaries(4), shards));
        try (ControlPlanePublisher publisher = new ControlPlanePublisher(cluster.bootstrapServers(), cluster.catalog())) {
            cluster.shards().forEach((id, shard) -> publisher.publishShard(ShardDescriptor.newBuilder().setShardId(id)
                .setConnectionString(shard.connectionString()).setCapacityBytes(1L << 30).setCapacityOpsPerSec(10_000)
                .setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(java.time.Instant.now()).build()));
            publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(NS).setStrategy(ShardKeyStrategyType.HASHED)
                .setShardKeyFields(List.of("_id")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
            publisher.publishRouting(NS, routing.chunks());
            publisher.publishConfig(NamespaceConfig.newBuilder().setNamespace(SINGLE_NS).setStrategy(ShardKeyStrategyType.HASHED)
                .setShardKeyFields(List.of("_id")).setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
            publisher.publishRouting(SINGLE_NS, InitialChunks.layout(SINGLE_NS, 1, List.of(), List.of(shards.get(0))));
        }
        return routing;
    }

    List<String> run() throws Exception {
        List<String> lines = new ArrayList<>();
        EmbeddedClusterConfig config = EmbeddedClusterConfig.defaults(Files.createTempDirectory("shardline-router-bench-"))
            .withShards(4).withCdc(false);
        try (EmbeddedCluster cluster = EmbeddedCluster.start(config)) {
            NamespaceRouting routing = register(cluster);
            try (RouterNode node = RouterNode.start(RouterConfig.defaults(cluster.bootstrapServers(), cluster.catalog()),
                "127.0.0.1", 0, Duration.ofSeconds(60))) {
                ShardRouter router = node.router();
                load(router);
                Map<String, MongoClient> direct = new LinkedHashMap<>();
                cluster.shards().forEach((id, shard) -> direct.put(id, MongoClients.create(shard.connectionString())));
                try {
                    lines.addAll(singleShard(router, node.url(), routing, direct));
                    lines.add(scatterVsSingle(router));
                    lines.add(loadGenerator(HttpLoad.class, node.url(), "concurrent HTTP"));
                } finally {
                    direct.values().forEach(MongoClient::close);
                }
            }
        }
        return lines;
    }

    private void load(ShardRouter router) {
        Random random = new Random(7);
        List<Document> batch = new ArrayList<>();
        for (int i = 0; i < documents; i++) {
            batch.add(new Document("_id", "u" + i).append("name", "user " + i).append("score", random.nextInt(100_000)));
            if (batch.size() == 1_000) {
                router.insert(TENANT, NS, batch);
                router.insert(TENANT, SINGLE_NS, batch);
                batch = new ArrayList<>();
            }
        }
        if (!batch.isEmpty()) {
            router.insert(TENANT, NS, batch);
            router.insert(TENANT, SINGLE_NS, batch);
        }
    }

    private List<String> singleShard(ShardRouter router, String url, NamespaceRouting routing, Map<String, MongoClient> direct)
        throws Exception {
        HashedKeyStrategy strategy = new HashedKeyStrategy("_id");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        Latencies viaLibrary = new Latencies(rounds);
        Latencies viaHttp = new Latencies(rounds);
        Latencies viaDriver = new Latencies(rounds);
        Latencies viaDriverBesideHttp = new Latencies(rounds);
        Latencies viaDriverScoped = new Latencies(rounds);
        Random random = new Random(11);
        // Two interleaved comparisons: the library and the driver (plain, and with the filter the router sends), then
        // HTTP and the driver. HTTP leaves work behind on the shared cores (event loops, the server's response), which
        // would land on whatever call came next.
        for (int i = 0; i < rounds + warmUp; i++) {
            final int round = i;
            String id = "u" + random.nextInt(documents);
            MongoCollection<Document> collection = owner(routing, strategy, direct, id);
            // The filter the router sends for a query by shard key: the caller's filter with the tenant added. The
            // shard owns every key it can match, so no owned-range condition is added.
            Document scopedFilter = new Document("tenantId", TENANT).append("_id", id);
            List<Runnable> calls = new ArrayList<>(List.of(
                () -> time(round, viaDriver, () -> collection.find(Filters.and(Filters.eq("tenantId", TENANT), Filters.eq("_id", id)))
                    .projection(new Document("_sk", 0)).first()),
                () -> time(round, viaLibrary, () -> router.find(TENANT, NS, FindRequest.of(new Document("_id", id)))),
                () -> time(round, viaDriverScoped, () -> collection.find(scopedFilter).projection(new Document("_sk", 0)).into(new ArrayList<>()))));
            // A different order every round, so no path always runs right after another one.
            java.util.Collections.shuffle(calls, random);
            calls.forEach(Runnable::run);
        }
        double[] httpBefore = null;
        for (int i = 0; i < rounds + warmUp; i++) {
            final int round = i;
            if (round == warmUp) {
                httpBefore = findFigures(router.meterRegistry(), "shardline.http.requests", "operation");
            }
            String id = "u" + random.nextInt(documents);
            MongoCollection<Document> collection = owner(routing, strategy, direct, id);
            List<Runnable> calls = new ArrayList<>(List.of(
                () -> time(round, viaDriverBesideHttp, () -> collection.find(Filters.and(Filters.eq("tenantId", TENANT), Filters.eq("_id", id)))
                    .projection(new Document("_sk", 0)).first()),
                () -> time(round, viaHttp, () -> httpFind(http, url, id))));
            java.util.Collections.shuffle(calls, random);
            calls.forEach(Runnable::run);
        }
        double[] httpAfter = findFigures(router.meterRegistry(), "shardline.http.requests", "operation");
        double requestMean = (httpAfter[1] - httpBefore[1]) / Math.max(1, httpAfter[0] - httpBefore[0]) / 1_000;
        double shardMean = (httpAfter[3] - httpBefore[3]) / Math.max(1, httpAfter[2] - httpBefore[2]) / 1_000;
        String httpWhere = String.format("  where an HTTP find's time goes (means): client sees %.0fus = shard call %.0fus + the router's own work"
                + " (JSON, the request on a worker thread) %.0fus + client-router transport, HTTP framing and hand-overs %.0fus"
                + " (the driver straight to a shard: %.0fus)", viaHttp.meanMicros(), shardMean, requestMean - shardMean,
            viaHttp.meanMicros() - requestMean, viaDriverBesideHttp.meanMicros());
        double driverP50 = viaDriver.percentileMicros(50);
        double driverP99 = viaDriver.percentileMicros(99);
        double besideHttpP50 = viaDriverBesideHttp.percentileMicros(50);
        double besideHttpP99 = viaDriverBesideHttp.percentileMicros(99);
        return List.of(
            String.format("single-shard find by shard key: driver p50=%.0fus p99=%.0fus (n=%d; library, driver and driver with the"
                + " router's filter in a random order each round)", driverP50, driverP99, rounds),
            String.format("  via Java library: p50=%.0fus p99=%.0fus  ratio p50=%.2f p99=%.2f",
                viaLibrary.percentileMicros(50), viaLibrary.percentileMicros(99),
                viaLibrary.percentileMicros(50) / driverP50, viaLibrary.percentileMicros(99) / driverP99),
            String.format("  driver with the filter the router sends (tenant added): p50=%.0fus p99=%.0fus  ratio p50=%.2f"
                    + " (the rest of the library's difference is the router's own work)",
                viaDriverScoped.percentileMicros(50), viaDriverScoped.percentileMicros(99), viaDriverScoped.percentileMicros(50) / driverP50),
            String.format("  via HTTP:         p50=%.0fus p99=%.0fus  vs the driver in the same loop p50=%.0fus p99=%.0fus  ratio p50=%.2f p99=%.2f",
                viaHttp.percentileMicros(50), viaHttp.percentileMicros(99), besideHttpP50, besideHttpP99,
                viaHttp.percentileMicros(50) / besideHttpP50, viaHttp.percentileMicros(99) / besideHttpP99),
            httpWhere);
    }

    private static MongoCollection<Document> owner(NamespaceRouting routing, HashedKeyStrategy strategy, Map<String, MongoClient> direct, String id) {
        io.shardline.core.routing.Chunk chunk = routing.chunkFor(strategy.keyOf(Map.of("_id", id)));
        return direct.get(chunk.shardId()).getDatabase("bench").getCollection("users");
    }

    /** Times one call after the warm-up rounds. */
    private void time(int round, Latencies into, Runnable call) {
        long start = System.nanoTime();
        call.run();
        if (round >= warmUp) {
            into.add(System.nanoTime() - start);
        }
    }

    private static void httpFind(HttpClient http, String url, String id) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/bench/users/find"))
                .header("X-Tenant-Id", TENANT).POST(HttpRequest.BodyPublishers.ofString("{\"filter\": {\"_id\": \"" + id + "\"}}")).build(),
                HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("HTTP find failed: " + response.body());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private String scatterVsSingle(ShardRouter router) {
        Latencies scatter = new Latencies(rounds / 4);
        Latencies single = new Latencies(rounds / 4);
        Document sort = new Document("score", -1).append("_id", 1);
        for (int i = 0; i < rounds / 4 + 100; i++) {
            long a = System.nanoTime();
            router.find(TENANT, NS, new FindRequest(new Document("score", new Document("$gte", 50_000)), sort, 0, 10, null, false));
            long b = System.nanoTime();
            router.find(TENANT, SINGLE_NS, new FindRequest(new Document("score", new Document("$gte", 50_000)), sort, 0, 10, null, false));
            long c = System.nanoTime();
            if (i >= 100) {
                scatter.add(b - a);
                single.add(c - b);
            }
        }
        return String.format("sorted find with limit 10, same %d documents: 4-shard scatter-gather p50=%.0fus vs one shard p50=%.0fus  ratio=%.2f",
            documents,
            scatter.percentileMicros(50), single.percentileMicros(50), scatter.percentileMicros(50) / single.percentileMicros(50));
    }

    /**
     * Runs a load generator ({@link HttpLoad}, {@link WireLoad}) in its own JVM: 10,000 client sockets and 10,000
     * server sockets do not fit one process's open-file limit here, and a separate process is closer to real clients.
     */
    private String loadGenerator(Class<?> generator, String url, String what) throws Exception {
        String jar = java.nio.file.Path.of(RouterBench.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        Process load = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", jar, generator.getName(), url, Integer.toString(connections), Integer.toString(documents))
            .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String result = new String(load.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        if (!load.waitFor(15, TimeUnit.MINUTES) || load.exitValue() != 0) {
            return what + ": the load generator failed (" + result + ")";
        }
        return result;
    }
}
