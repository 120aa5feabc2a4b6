package io.shardline.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Future;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.NamespaceRouting;
import io.shardline.core.routing.RoutingTable;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.embedded.EmbeddedClusterConfig;
import io.shardline.router.RouterConfig;
import io.shardline.router.ShardRouter;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ChunkRoute;

/**
 * The routing at a million chunks, in one run: the routing table in memory (apply, lookup, one update, memory per
 * chunk, each next to its baseline: a plain {@link TreeMap} lookup, and the whole rebuild one update used to cost),
 * then real routers on the broker: loading the routing topic, restarting from the local routing store, and how long a
 * routing change takes to be applied by every one of several routers.
 */
final class RoutingBench {

    private static final String NS = "bench.sessions";
    private static final int SHARDS = 1_024;
    private static final int ROUTERS = 3;

    private final int chunks;
    private final int lookups;
    private final int updates;
    private final int changes;

    RoutingBench(double scale) {
        this.chunks = BenchMain.scaled(1_000_000, scale);
        this.lookups = BenchMain.scaled(1_000_000, scale);
        this.updates = BenchMain.scaled(20_000, scale);
        this.changes = Math.max(20, BenchMain.scaled(300, scale));
    }

    List<String> run() throws Exception {
        List<String> lines = new ArrayList<>();
        List<Chunk> layout = layout();
        lines.addAll(inMemory(layout));
        lines.addAll(onTheBroker(layout));
        return lines;
    }

    /** {@code chunks} chunks split at k00000001, k00000002, ..., over {@value #SHARDS} shards. */
    private List<Chunk> layout() {
        List<Chunk> layout = new ArrayList<>(chunks);
        ShardKey min = ShardKey.MIN;
        for (int i = 1; i <= chunks; i++) {
            ShardKey max = i == chunks ? null : key(i);
            layout.add(Chunk.active(NS, new KeyRange(min, max), "s" + (i % SHARDS), 1, 1));
            min = max;
        }
        return layout;
    }

    private static ShardKey key(int i) {
        return KeyEncoding.encode(String.format("k%08d", i));
    }

    private List<String> inMemory(List<Chunk> layout) {
        List<String> lines = new ArrayList<>();
        long heapBefore = usedHeapAfterGc();
        RoutingTable table = new RoutingTable();
        long started = System.nanoTime();
        layout.forEach(table::put);
        long applyAll = System.nanoTime() - started;
        NamespaceRouting routing = table.namespace(NS).orElseThrow(() -> new IllegalStateException("the layout does not cover the key space"));
        long heapAfter = usedHeapAfterGc();
        lines.add(String.format("routing table, %,d chunks: applied one by one in %,d ms (%.2f us a record); %,d bytes of heap a chunk",
            routing.size(), applyAll / 1_000_000, applyAll / 1_000.0 / chunks, (heapAfter - heapBefore) / chunks));

        TreeMap<ShardKey, Chunk> plain = new TreeMap<>();
        layout.forEach(chunk -> plain.put(chunk.min(), chunk));
        Random random = new Random(7);
        ShardKey[] probes = new ShardKey[4_096];
        for (int i = 0; i < probes.length; i++) {
            probes[i] = KeyEncoding.encode(String.format("k%08d-%d", random.nextInt(chunks), i));
        }
        Latencies lookup = new Latencies(lookups);
        Latencies baseline = new Latencies(lookups);
        long sink = 0;
        for (int i = 0; i < lookups; i++) {
            ShardKey probe = probes[i & (probes.length - 1)];
            long t0 = System.nanoTime();
            sink += routing.chunkFor(probe).version();
            long t1 = System.nanoTime();
            sink += plain.floorEntry(probe).getValue().version();
            long t2 = System.nanoTime();
            lookup.add(t1 - t0);
            baseline.add(t2 - t1);
        }
        lines.add(String.format("lookup (chunkFor), %,d random keys: p50 %.2f us, p99 %.2f us (goal <= 5 us); a plain TreeMap floorEntry p50 %.2f us, p99 %.2f us: %.2fx at p99",
            lookups, lookup.percentileMicros(50), lookup.percentileMicros(99), baseline.percentileMicros(50), baseline.percentileMicros(99),
            lookup.percentileMicros(99) / Math.max(0.001, baseline.percentileMicros(99))));

        Latencies update = new Latencies(updates);
        for (int i = 0; i < updates; i++) {
            Chunk chunk = layout.get(random.nextInt(layout.size()));
            Chunk moved = chunk.withOwner("s" + random.nextInt(SHARDS), 2 + i, chunk.state(), null);
            long t0 = System.nanoTime();
            table.put(moved);
            update.add(System.nanoTime() - t0);
        }
        long rebuildStarted = System.nanoTime();
        NamespaceRouting rebuilt = NamespaceRouting.of(NS, table.namespace(NS).orElseThrow().chunks());
        long rebuild = System.nanoTime() - rebuildStarted;
        lines.add(String.format("one routing update applied, %,d moves: p50 %.2f us, p99 %.2f us (goal <= 1 ms); a whole rebuild of the namespace (%,d chunks) %,d ms: %,.0fx the p99",
            updates, update.percentileMicros(50), update.percentileMicros(99), rebuilt.size(), rebuild / 1_000_000,
            rebuild / 1_000.0 / Math.max(0.001, update.percentileMicros(99))));
        return lines;
    }

    private List<String> onTheBroker(List<Chunk> layout) throws Exception {
        List<String> lines = new ArrayList<>();
        Path work = Files.createTempDirectory("shardline-routing-bench-");
        try (EmbeddedCluster cluster = EmbeddedCluster.start(EmbeddedClusterConfig.defaults(work).withShards(1).withCdc(false));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                 ProducerConfig.LINGER_MS_CONFIG, 20, ProducerConfig.BATCH_SIZE_CONFIG, 1 << 20, ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4"),
                 new ByteArraySerializer(), new ByteArraySerializer())) {
            TopicCatalog catalog = cluster.catalog();
            long started = System.nanoTime();
            Future<RecordMetadata> last = null;
            for (Chunk chunk : layout) {
                last = send(producer, catalog, chunk);
            }
            producer.flush();
            last.get();
            lines.add(String.format("published %,d routing records in %,d ms", layout.size(), (System.nanoTime() - started) / 1_000_000));

            Path store = work.resolve("router-1");
            RouterConfig config = RouterConfig.defaults(cluster.bootstrapServers(), catalog);
            long heapBefore = usedHeapAfterGc();
            started = System.nanoTime();
            ShardRouter first = ShardRouter.start(config.withRouterId("bench-1").withRoutingStore(store), new SimpleMeterRegistry(), Duration.ofMinutes(5));
            long load = System.nanoTime() - started;
            long heapLoaded = usedHeapAfterGc();
            started = System.nanoTime();
            first.close();
            long close = System.nanoTime() - started;
            lines.add(String.format("router start, reading the whole routing topic (%,d records): %,d ms (goal <= 10 s); the router's heap %,d bytes a chunk; "
                + "closing it wrote its routing store (%,d KiB) in %,d ms", layout.size(), load / 1_000_000, (heapLoaded - heapBefore) / layout.size(),
                Files.size(store.resolve("routing.avro")) / 1024, close / 1_000_000));

            List<ShardRouter> routers = new ArrayList<>();
            try {
                long[] restarts = new long[ROUTERS];
                for (int r = 0; r < ROUTERS; r++) {
                    Path own = work.resolve("router-" + (r + 1));
                    if (r > 0) {
                        Files.createDirectories(own);
                        Files.copy(store.resolve("routing.avro"), own.resolve("routing.avro"), StandardCopyOption.REPLACE_EXISTING);
                    }
                    started = System.nanoTime();
                    routers.add(ShardRouter.start(config.withRouterId("bench-" + (r + 1)).withRoutingStore(own), new SimpleMeterRegistry(),
                        Duration.ofMinutes(5)));
                    restarts[r] = System.nanoTime() - started;
                    double loaded = routers.get(r).meterRegistry().get("routing.store.chunks.loaded").gauge().value();
                    if (loaded != layout.size()) {
                        throw new IllegalStateException("router " + (r + 1) + " loaded " + loaded + " chunks from its store, not " + layout.size());
                    }
                }
                long slowest = java.util.Arrays.stream(restarts).max().orElse(0);
                lines.add(String.format("router restart from its local routing store, %d routers: slowest %,d ms (goal <= 3 s), %.1fx faster than reading the topic",
                    ROUTERS, slowest / 1_000_000, (double) load / slowest));
                lines.add(visibility(producer, catalog, layout, routers));
            } finally {
                for (ShardRouter router : routers) {
                    router.close();
                }
            }
        }
        return lines;
    }

    /** Publishes {@link #changes} moves one at a time; each is timed until every router has applied it. */
    private String visibility(KafkaProducer<byte[], byte[]> producer, TopicCatalog catalog, List<Chunk> layout, List<ShardRouter> routers)
        throws Exception {
        Random random = new Random(11);
        Latencies all = new Latencies(changes);
        for (int i = 0; i < changes; i++) {
            Chunk chunk = layout.get(random.nextInt(layout.size()));
            long started = System.nanoTime();
            long offset = send(producer, catalog, chunk.withOwner("s" + random.nextInt(SHARDS), 1_000 + i, chunk.state(), null)).get().offset();
            for (ShardRouter router : routers) {
                if (router.awaitRoutingVersionAbove(offset, Duration.ofSeconds(30)) <= offset) {
                    throw new IllegalStateException(router.routerId() + " did not apply routing offset " + offset + " within 30 s");
                }
            }
            all.add(System.nanoTime() - started);
        }
        return String.format("a routing change applied by all %d routers (publish -> every router's routing version past it), %d changes: p50 %.1f ms, "
            + "p99 %.1f ms (goal <= 200 ms)", routers.size(), changes, all.percentileMicros(50) / 1_000, all.percentileMicros(99) / 1_000);
    }

    private static Future<RecordMetadata> send(KafkaProducer<byte[], byte[]> producer, TopicCatalog catalog, Chunk chunk) {
        String topic = catalog.routing().name();
        ChunkRoute route = chunk.toRoute();
        return producer.send(new ProducerRecord<>(topic, catalog.routing().keySerde().serializer().serialize(topic,
            TopicCatalog.routingKey(chunk.namespace(), chunk.min().toHex())), catalog.routing().valueSerde().serializer().serialize(topic, route)));
    }

    private static long usedHeapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
