package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoCollection;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.router.api.FindAndModifyRequest;
import io.shardline.router.api.FindAndModifyResult;
import io.shardline.router.api.RouterException;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.shard.EmbeddedShard;

/**
 * The two phases of a {@code findAndModify} whose filter spans chunks, on two embedded shards with the phase between
 * them taken over by the test: another write that takes the first match in between makes the router read again and
 * modify the next one; a first match that never holds still fails as retryable having modified nothing; an upsert
 * by replacement that meets a document appearing in between replaces it only if it keeps its tenant; what each call
 * removed or inserted is counted on its chunk.
 */
class WritePathFindAndModifyIT {

    private static final String NS = "app.jobs";
    private static final long RACE_BUDGET_MILLIS = 300;

    private static EmbeddedShard a;
    private static EmbeddedShard b;
    private static RoutingState state;
    private static ShardClients clients;
    private static ExecutorService executor;
    private static ReadPath reads;
    private static AcknowledgedDocuments acknowledged;
    private static WritePath writes;
    private static final UpdateRules RULES = new UpdateRules("tenantId", List.of("_id"));
    private static final RouterMetrics METRICS = new RouterMetrics(new SimpleMeterRegistry());

    @BeforeAll
    static void start() {
        a = EmbeddedShard.start("fam-a");
        b = EmbeddedShard.start("fam-b");
        state = new RoutingState();
        state.applyShard(descriptor("a", a));
        state.applyShard(descriptor("b", b));
        state.applyConfig(NamespaceConfig.newBuilder().setNamespace(NS).setStrategy(ShardKeyStrategyType.HASHED).setShardKeyFields(List.of("_id"))
            .setThresholds(Thresholds.newBuilder().build()).setEpoch(1).setVersion(1).build());
        long offset = 0;
        for (Chunk chunk : InitialChunks.layout(NS, 1, InitialChunks.hashedBoundaries(4), List.of("a", "b"))) {
            state.applyRoute(route(chunk), offset++);
        }
        clients = new ShardClients(state, 5_000, 100, 1_000, 0, METRICS);
        executor = Executors.newCachedThreadPool();
        reads = new ReadPath(clients, executor, 5_000, METRICS, new LoadCounter(), new ReleasedRanges(clients, () -> false),
            new ShardAvailability(state, METRICS));
    }

    private static WritePath writePath(AcknowledgedDocuments counts) {
        return new WritePath(clients, state, 500, METRICS, new LoadCounter(), RouterLease.ALWAYS, new InFlightWrites(state), counts, RACE_BUDGET_MILLIS,
            new ShardAvailability(state, METRICS), new StandbyAcks(state, java.time.Duration.ofSeconds(5), METRICS));
    }

    @AfterAll
    static void stop() {
        clients.close();
        executor.shutdownNow();
        a.close();
        b.close();
    }

    @BeforeEach
    void fillTheQueue() {
        onEveryShard(collection -> collection.deleteMany(new Document()));
        List<Document> jobs = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            jobs.add(new Document("_id", String.format("job-%02d", i)).append("tenantId", "acme").append("status", "pending").append("priority", i));
        }
        writePath(new AcknowledgedDocuments("setup")).insert(this::view, jobs);
        acknowledged = new AcknowledgedDocuments("router-fam");
        writes = writePath(acknowledged);
    }

    private NamespaceView view() {
        return NamespaceView.of(state, NS);
    }

    private static ShardDescriptor descriptor(String id, EmbeddedShard shard) {
        return ShardDescriptor.newBuilder().setShardId(id).setConnectionString(shard.connectionString()).setCapacityBytes(1L << 30)
            .setCapacityOpsPerSec(10_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.EPOCH).build();
    }

    private static ChunkRoute route(Chunk chunk) {
        return ChunkRoute.newBuilder().setNamespace(chunk.namespace()).setMin(ByteBuffer.wrap(chunk.min().toBytes()))
            .setMax(chunk.max() == null ? null : ByteBuffer.wrap(chunk.max().toBytes())).setShardId(chunk.shardId()).setEpoch(chunk.epoch())
            .setVersion(chunk.version()).setState(chunk.state()).setMigrationId(chunk.migrationId()).build();
    }

    private static void onEveryShard(java.util.function.Consumer<MongoCollection<Document>> action) {
        for (String shard : List.of("a", "b")) {
            action.accept(clients.client(shard).getDatabase("app").getCollection("jobs"));
        }
    }

    private static List<Document> stored() {
        List<Document> all = new ArrayList<>();
        onEveryShard(collection -> collection.find().into(all));
        all.sort(java.util.Comparator.comparing(d -> d.getString("_id")));
        return all;
    }

    private static FindAndModifyRequest claim() {
        return new FindAndModifyRequest(new Document("status", "pending"), new Document("priority", 1),
            new Document("$set", new Document("status", "claimed")), false, true, null, false);
    }

    @Test
    void shouldReadAgainAndModifyTheNextMatchWhenAnotherWriteTookTheFirstInBetween() {
        AtomicInteger reading = new AtomicInteger();
        WritePath.FirstMatch racing = (view, targets, filter, sort) -> {
            Document first = reads.first(view, targets, filter, sort);
            if (reading.getAndIncrement() == 0) {
                onEveryShard(collection -> collection.updateOne(new Document("_id", first.get("_id")),
                    new Document("$set", new Document("status", "taken elsewhere"))));
            }
            return first;
        };

        FindAndModifyResult result = writes.findAndModify(this::view, claim(), RULES, racing);

        assertThat(reading.get()).isEqualTo(2);
        assertThat(result.document()).isEqualTo(new Document("_id", "job-01").append("tenantId", "acme").append("status", "claimed")
            .append("priority", 1));
        assertThat(result.n()).isEqualTo(1);
        assertThat(result.updatedExisting()).isTrue();
        assertThat(stored()).extracting(d -> d.getString("status")).startsWith("taken elsewhere", "claimed", "pending");
        assertThat(stored().stream().filter(d -> !d.getString("status").equals("pending"))).hasSize(2);
    }

    @Test
    void shouldFailRetryablyHavingModifiedNothingWhenTheFirstMatchNeverHolds() {
        AtomicInteger reading = new AtomicInteger();
        WritePath.FirstMatch vanishing = (view, targets, filter, sort) -> {
            reading.incrementAndGet();
            Document first = reads.first(view, targets, filter, sort);
            return new Document(first).append("_id", "gone-" + reading.get());
        };
        long start = System.currentTimeMillis();

        assertThatThrownBy(() -> writes.findAndModify(this::view, claim(), RULES, vanishing))
            .isInstanceOfSatisfying(RouterException.class, e -> {
                assertThat(e.kind()).isEqualTo(RouterException.Kind.RETRYABLE);
                assertThat(e.getMessage()).contains("nothing was modified");
            });

        assertThat(System.currentTimeMillis() - start).isGreaterThanOrEqualTo(RACE_BUDGET_MILLIS);
        assertThat(reading.get()).isGreaterThan(1);
        assertThat(stored()).allSatisfy(job -> assertThat(job.getString("status")).isEqualTo("pending"));
    }

    @Test
    void shouldCountARemovalOnTheChunkOfTheDocumentItRemoved() {
        FindAndModifyRequest remove = new FindAndModifyRequest(new Document("status", "pending"), new Document("priority", -1), null, true,
            false, new Document("priority", 1), false);

        FindAndModifyResult result = writes.findAndModify(this::view, remove, RULES, reads::first);

        assertThat(result.document()).isEqualTo(new Document("_id", "job-11").append("priority", 11));
        assertThat(result.n()).isEqualTo(1);
        Chunk chunk = view().routing().chunkFor(view().strategy().keyOf(new Document("_id", "job-11")));
        assertThat(acknowledged.changed()).singleElement().satisfies(count -> {
            assertThat(count.getRemoved()).isEqualTo(1);
            assertThat(count.getAdded()).isZero();
            assertThat(ShardKey.ofBytes(bytes(count.getChunkMin()))).isEqualTo(chunk.min());
        });
        assertThat(stored()).hasSize(11);
    }

    @Test
    void shouldReplaceADocumentThatAppearedBeforeTheUpsertOnlyIfItKeepsItsTenant() {
        Document replacement = new Document("tenantId", "acme").append("status", "replaced");
        FindAndModifyRequest upsertOwn = new FindAndModifyRequest(new Document("_id", "late-own"), null, replacement, false, true, null, true);
        FindAndModifyRequest upsertOther = new FindAndModifyRequest(new Document("_id", "late-other"), null, replacement, false, true, null, true);

        FindAndModifyResult own = writes.findAndModify(this::view, upsertOwn, RULES, appearing("late-own", "acme"));
        assertThat(acknowledged.changed()).as("a replacement counts nothing").isEmpty();
        assertThatThrownBy(() -> writes.findAndModify(this::view, upsertOther, RULES, appearing("late-other", "globex")))
            .isInstanceOfSatisfying(RouterException.class, e -> assertThat(e.getMessage()).contains("'tenantId'", "has globex"));
        FindAndModifyResult fresh = writes.findAndModify(this::view,
            new FindAndModifyRequest(new Document("_id", "fresh"), null, replacement, false, false, null, true), RULES, reads::first);

        assertThat(own.updatedExisting()).isTrue();
        assertThat(own.upsertedId()).isNull();
        assertThat(own.document()).isEqualTo(new Document("_id", "late-own").append("tenantId", "acme").append("status", "replaced"));
        assertThat(stored()).filteredOn(d -> d.getString("_id").equals("late-other")).singleElement()
            .satisfies(d -> assertThat(d.getString("tenantId")).isEqualTo("globex"));
        assertThat(fresh.upsertedId()).isEqualTo("fresh");
        assertThat(fresh.document()).as("the document before: none").isNull();
        assertThat(acknowledged.changed()).singleElement().satisfies(count -> assertThat(count.getAdded()).isEqualTo(1));
        assertThat(stored()).filteredOn(d -> d.getString("_id").equals("fresh")).singleElement()
            .satisfies(d -> assertThat(d.getString("_sk")).isEqualTo(view().strategy().keyOf(new Document("_id", "fresh")).toHex()));
    }

    /** A first read that finds nothing, while a document of the filter's {@code _id} and the given tenant appears. */
    private WritePath.FirstMatch appearing(String id, String tenant) {
        AtomicInteger reading = new AtomicInteger();
        return (view, targets, filter, sort) -> {
            if (reading.getAndIncrement() > 0) {
                return reads.first(view, targets, filter, sort);
            }
            Document late = new Document("_id", id).append("tenantId", tenant).append("status", "late")
                .append(ShardKeyField.NAME, view.strategy().keyOf(new Document("_id", id)).toHex());
            clients.client(targets.shards().get(0)).getDatabase("app").getCollection("jobs").insertOne(late);
            return null;
        };
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer copy = buffer.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }
}
