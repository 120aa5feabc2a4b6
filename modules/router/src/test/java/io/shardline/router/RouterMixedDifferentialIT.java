package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.RouterProjectionDistinctIT.DataGenerator;
import io.shardline.router.wire.WireServer;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * Seeded random finds, counts, distincts and pipelines ({@link DifferentialQueries}) over documents of every type the
 * router handles ({@link DataGenerator}: arrays of mixed types and of arrays, embedded documents, null and missing,
 * int, long, double and decimal in one field, dates, booleans, unicode) answer through the router as on one unsharded
 * collection of the same engine, for three chunk layouts (by tenant; hashed by {@code _id}; by tenant with each tenant
 * in hashed sub-ranges) and for a fourth while one of its chunks moves back and forth between two shards (the
 * documents copied to the new owner, the routing published, then the documents deleted from the old owner). The seed
 * ({@code shardline.mixed.seed}) and the number of queries ({@code shardline.mixed.queries} per layout,
 * {@code shardline.mixed.moving.queries} while moving) are system properties. A failure prints the seed, the query and
 * the query shrunk to a smaller one that fails the same way.
 *
 * <p>The queries stay clear of the places where the embedded engine (mongo-java-server) departs from MongoDB, so that
 * the unsharded collection is a faithful reference: its aggregation {@code $sort} stage orders by its own comparator
 * (unlike its find sort), which differs from MongoDB for arrays (empty and nested), so pipeline sorts use fields of
 * scalar values ({@code at}, {@code name}, {@code age}, {@code w}, {@code _id}), and its {@code $min}/{@code $max}
 * accumulators use the same comparator ({@code $min} of {@code []} and {@code [null, null]} gives the second; of
 * {@code {langs: ["en"]}} and {@code {langs: ["en", "x"]}} the second, where MongoDB's array order puts a prefix first),
 * so they run over fields of scalars of mixed types, not over arrays or documents holding them; its {@code distinct} drops some embedded documents,
 * so distinct keys are never fields holding documents ({@code profile}, {@code details}); and the projections are those
 * of {@link ProjectionGenerator}, which avoid its {@code $slice} and nested-array projection deviations; it averages
 * decimals with other numbers to a double where MongoDB answers a decimal, so {@code $avg} runs over fields without
 * decimals ({@code w}, and fields of non-numbers); a field path through an array of documents some of which lack the
 * field ({@code "$details.code"}) leaves an internal "missing" marker in the array it builds, which it then fails to
 * send, so group keys and accumulator operands are top-level fields or paths through embedded documents only.
 */
@ShardlineCluster
class RouterMixedDifferentialIT {

    private static final long SEED = Long.getLong("shardline.mixed.seed", 20261130L);
    private static final int QUERIES_PER_LAYOUT = Integer.getInteger("shardline.mixed.queries", 1200);
    private static final int WIRE_QUERIES_PER_LAYOUT = Integer.getInteger("shardline.mixed.wire.queries", 600);
    private static final int QUERIES_WHILE_MOVING = Integer.getInteger("shardline.mixed.moving.queries", 600);
    private static final List<String> TENANTS = List.of("acme", "bravo", "cyan", "delta");
    private static final List<String> LAYOUTS = List.of("by_tenant", "hashed", "suffixed");
    private static final String MOVING = "moving";
    /** A field of int, long and double without decimals (see the class comment), with non-numbers beside them. */
    private static final List<Object> WEIGHTS = java.util.Arrays.asList(3, 7L, 2.5, -1.5, 0, 4.0, "x", "10", true, null);

    private static EmbeddedShard s3;
    private static EmbeddedShard reference;
    private static MongoClient referenceClient;
    private static RouterFixture fixture;
    private static ShardRouter router;
    private static String db;
    private static Map<String, EmbeddedShard> shards;

    @BeforeAll
    static void loadData(EmbeddedCluster cluster, TestNames names) throws Exception {
        s3 = EmbeddedShard.start("s3-" + names.database());
        reference = EmbeddedShard.start("reference-mixed");
        referenceClient = MongoClients.create(reference.connectionString());
        fixture = new RouterFixture(cluster, names);
        shards = Map.of("s1", cluster.shards().get("s1"), "s2", cluster.shards().get("s2"), "s3", s3);
        shards.forEach(fixture::register);
        db = names.database();
        List<String> ids = List.of("s1", "s2", "s3");
        fixture.namespace(db + ".by_tenant", ShardKeyStrategyType.TENANT, List.of("tenantId"),
            InitialChunks.layout(db + ".by_tenant", 1, InitialChunks.valueBoundaries(List.of("bravo", "cyan", "delta")), ids));
        fixture.namespace(db + ".hashed", ShardKeyStrategyType.HASHED, List.of("_id"),
            InitialChunks.layout(db + ".hashed", 1, InitialChunks.hashedBoundaries(6), ids));
        List<ShardKey> cuts = new ArrayList<>();
        for (String tenant : TENANTS) {
            cuts.add(KeyEncoding.encodeTuple(List.of(tenant, 2L)));
            cuts.add(KeyEncoding.encodeTuple(List.of(tenant, 4L)));
        }
        fixture.namespace(db + ".suffixed", ShardKeyStrategyType.TENANT, List.of("tenantId", "_id"), 6,
            InitialChunks.layout(db + ".suffixed", 1, cuts, ids));
        // acme on s1, bravo on s2 (the chunk that moves), cyan and delta on s3.
        fixture.namespace(db + "." + MOVING, ShardKeyStrategyType.TENANT, List.of("tenantId"),
            InitialChunks.layout(db + "." + MOVING, 1, InitialChunks.valueBoundaries(List.of("bravo", "cyan")), ids));
        router = fixture.router();

        Random random = new Random(SEED);
        Random weights = new Random(SEED + 1);
        List<Document> all = new ArrayList<>();
        for (String tenant : TENANTS) {
            List<Document> ofTenant = new ArrayList<>();
            for (int i = 0; i < 90; i++) {
                Document document = DataGenerator.document(random, tenant, i, all.size() + ofTenant.size());
                if (weights.nextInt(6) > 0) {
                    document.append("w", WEIGHTS.get(weights.nextInt(WEIGHTS.size())));
                }
                ofTenant.add(document);
            }
            for (String layout : LAYOUTS) {
                router.insert(tenant, db + "." + layout, copies(ofTenant));
            }
            router.insert(tenant, db + "." + MOVING, copies(ofTenant));
            all.addAll(ofTenant);
        }
        referenceClient.getDatabase(db).getCollection("reference").insertMany(copies(all));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        router.close();
        referenceClient.close();
        reference.close();
        s3.close();
    }

    private static List<Document> copies(List<Document> documents) {
        return documents.stream().map(Document::new).toList();
    }

    @Test
    void shouldAnswerRandomQueriesOverMixedTypesAsOneUnshardedCollectionForThreeLayouts() {
        DifferentialCheck check = new DifferentialCheck(router, referenceClient.getDatabase(db).getCollection("reference"));
        List<String> failures = new ArrayList<>();
        for (String layout : LAYOUTS) {
            run(check, layout, QUERIES_PER_LAYOUT, failures);
        }
        assertThat(failures).as("seed=" + SEED).isEmpty();
    }

    /** The same seeded queries over the MongoDB wire protocol, with the driver as the client, finds paged by threes. */
    @Test
    void shouldAnswerRandomQueriesOverTheWireProtocolAsOneUnshardedCollection() throws Exception {
        try (WireServer wire = WireServer.start(router, WireServer.Settings.defaults(0));
             MongoClient client = MongoClients.create(wire.uri())) {
            DifferentialCheck check = new DifferentialCheck(QueryPath.wire(client, "tenantId", 3),
                referenceClient.getDatabase(db).getCollection("reference"));
            List<String> failures = new ArrayList<>();
            for (String layout : LAYOUTS) {
                run(check, layout, WIRE_QUERIES_PER_LAYOUT, failures);
            }
            assertThat(failures).as("seed=" + SEED).isEmpty();
        }
    }

    @Test
    void shouldAnswerRandomQueriesAsOneUnshardedCollectionWhileAChunkMoves() throws Exception {
        DifferentialCheck check = new DifferentialCheck(router, referenceClient.getDatabase(db).getCollection("reference"));
        ChunkMover mover = new ChunkMover();
        Thread thread = new Thread(mover, "chunk-mover");
        thread.start();
        List<String> failures = new ArrayList<>();
        try {
            run(check, MOVING, QUERIES_WHILE_MOVING, failures);
        } finally {
            mover.running.set(false);
            thread.join();
        }
        assertThat(mover.failure.get()).as("the chunk mover").isNull();
        System.out.printf("mixed differential %s: %d moves of the bravo chunk during the queries%n", MOVING, mover.moves.get());
        assertThat(mover.moves.get()).as("moves while the queries ran").isGreaterThanOrEqualTo(2);
        assertThat(failures).as("seed=" + SEED).isEmpty();
    }

    private static void run(DifferentialCheck check, String layout, int queries, List<String> failures) {
        Random random = new Random(SEED ^ layout.hashCode());
        String namespace = db + "." + layout;
        int[] kinds = new int[DifferentialCase.Kind.values().length];
        long start = System.nanoTime();
        for (int q = 0; q < queries; q++) {
            DifferentialCase query = DifferentialQueries.next(random);
            kinds[query.kind().ordinal()]++;
            String failure = check.difference(namespace, query);
            if (failure != null) {
                String report = "seed=" + SEED + " layout=" + layout + " query#" + q + ": " + query.describe() + "\n  " + failure;
                if (failures.size() < 10) {
                    DifferentialCase shrunk = check.shrink(namespace, query, failure);
                    report += "\n  shrunk: " + shrunk.describe() + "\n  " + check.difference(namespace, shrunk);
                }
                System.out.println("DIFFERENCE " + report);
                failures.add(report);
            }
        }
        System.out.printf("mixed differential %s seed=%d: %d finds, %d counts, %d distincts, %d pipelines in %d ms, %d refusals"
            + " so far, %d differences%n", layout, SEED, kinds[0], kinds[1], kinds[2], kinds[3], (System.nanoTime() - start) / 1_000_000,
            check.refusals(), failures.size());
    }

    /** Moves tenant bravo's chunk of {@value #MOVING} between s2 and s3 until told to stop, as a migration would. */
    private static final class ChunkMover implements Runnable {

        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicInteger moves = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        @Override
        public void run() {
            String namespace = db + "." + MOVING;
            Chunk chunk = InitialChunks.layout(namespace, 1, InitialChunks.valueBoundaries(List.of("bravo", "cyan")),
                List.of("s1", "s2", "s3")).get(1);
            try {
                while (running.get()) {
                    String to = chunk.shardId().equals("s2") ? "s3" : "s2";
                    Document ofChunk = new Document("tenantId", "bravo");
                    try (MongoClient from = MongoClients.create(shards.get(chunk.shardId()).connectionString());
                         MongoClient target = MongoClients.create(shards.get(to).connectionString())) {
                        MongoCollection<Document> source = from.getDatabase(db).getCollection(MOVING);
                        target.getDatabase(db).getCollection(MOVING).insertMany(source.find(ofChunk).into(new ArrayList<>()));
                        long before = router.routingVersion();
                        chunk = chunk.withOwner(to, chunk.version() + 1, ChunkState.ACTIVE, null);
                        fixture.publisher.publishChunk(chunk);
                        router.awaitRoutingVersionAbove(before, Duration.ofSeconds(10));
                        Thread.sleep(150); // reads planned on the old routing finish before the old copy goes
                        source.deleteMany(ofChunk);
                    }
                    moves.incrementAndGet();
                    Thread.sleep(150);
                }
            } catch (Exception | AssertionError e) {
                failure.set(e);
            }
        }
    }
}
