package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Random;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.FindIterable;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.FindRequest;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * The router gives the answers one unsharded MongoDB gives: the same randomized multi-tenant data set is loaded into
 * one reference shard and, through the router, into three shards; a randomized corpus of queries runs against both
 * for two chunk layouts of the same data. A failure names the seed and the query.
 */
@ShardlineCluster
class RouterDifferentialIT {

    private static final long SEED = Long.getLong("shardline.differential.seed", 20261124L);
    private static final int QUERIES_PER_LAYOUT = Integer.getInteger("shardline.differential.queries", 600);
    private static final List<String> TENANTS = List.of("acme", "bravo", "cyan", "delta", "echo", "fox", "golf", "hotel");
    private static final List<String> PLANS = List.of("free", "pro", "team", "enterprise");
    private static final List<String> NAMES = List.of("ann", "bob", "cy", "dee", "eve", "fay");
    private static final List<Object> MISC = java.util.Arrays.asList(3, 7L, 2.5, -1.5, "x", "10", true, false, null, 0);

    private static EmbeddedShard s3;
    private static EmbeddedShard reference;
    private static MongoClient referenceClient;
    private static ShardRouter router;
    private static String db;

    @BeforeAll
    static void loadData(EmbeddedCluster cluster, TestNames names) throws Exception {
        s3 = EmbeddedShard.start("s3-" + names.database());
        reference = EmbeddedShard.start("reference");
        referenceClient = MongoClients.create(reference.connectionString());
        RouterFixture fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        fixture.register("s3", s3);
        db = names.database();
        List<String> shards = List.of("s1", "s2", "s3");
        // Layout A: users by tenant, cut between tenants; layout B: the same data hashed by _id. Six chunks each,
        // two per shard.
        fixture.namespace(db + ".users_a", ShardKeyStrategyType.TENANT, List.of("tenantId"),
            InitialChunks.layout(db + ".users_a", 1, InitialChunks.valueBoundaries(List.of("bravo", "cyan", "delta", "fox", "golf")), shards));
        fixture.namespace(db + ".users_b", ShardKeyStrategyType.HASHED, List.of("_id"),
            InitialChunks.layout(db + ".users_b", 1, InitialChunks.hashedBoundaries(6), shards));
        router = fixture.router();

        Random random = new Random(SEED);
        List<Document> all = new ArrayList<>();
        for (int t = 0; t < TENANTS.size(); t++) {
            String tenant = TENANTS.get(t);
            int size = 20 + (int) (180 / (t + 1.0)); // skewed tenant sizes
            for (int i = 0; i < size; i++) {
                Document user = new Document("_id", tenant + "-" + i).append("tenantId", tenant)
                    .append("name", NAMES.get(random.nextInt(NAMES.size())))
                    .append("plan", PLANS.get(random.nextInt(PLANS.size())))
                    .append("score", random.nextInt(2000) / 2.0) // halves: sums are exact in any order
                    .append("createdAt", new Date(1_700_000_000_000L + random.nextInt(1_000_000) * 1000L))
                    .append("active", random.nextBoolean());
                if (random.nextInt(5) > 0) {
                    user.append("age", 18 + random.nextInt(50));
                }
                if (random.nextInt(6) > 0) {
                    // A field of mixed scalar types: $sum and $avg take its numbers only, $min/$max compare in BSON order.
                    user.append("misc", MISC.get(random.nextInt(MISC.size())));
                }
                all.add(user);
            }
        }
        for (String tenant : TENANTS) {
            List<Document> ofTenant = all.stream().filter(d -> d.getString("tenantId").equals(tenant)).toList();
            router.insert(tenant, db + ".users_a", copies(ofTenant));
            router.insert(tenant, db + ".users_b", copies(ofTenant));
        }
        referenceClient.getDatabase(db).getCollection("users").insertMany(copies(all));
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
    void shouldAnswerRandomQueriesAsOneUnshardedMongoDbWouldForTwoChunkLayouts() {
        for (String layout : List.of("users_a", "users_b")) {
            Random random = new Random(SEED ^ layout.hashCode());
            int[] kinds = new int[5];
            for (int q = 0; q < QUERIES_PER_LAYOUT; q++) {
                String tenant = TENANTS.get(random.nextInt(TENANTS.size()));
                Document filter = randomFilter(random, tenant);
                String context = "seed=" + SEED + " layout=" + layout + " query#" + q + " tenant=" + tenant + " filter=" + filter.toJson();
                int kind = random.nextInt(5);
                kinds[kind]++;
                switch (kind) {
                    case 4 -> {
                        List<Document> pipeline = randomPipeline(random, filter);
                        List<Document> expected = new ArrayList<>();
                        List<Document> referencePipeline = new ArrayList<>();
                        referencePipeline.add(new Document("$match", new Document("tenantId", tenant)));
                        // The reference engine lacks MongoDB 5's $count accumulator; {$sum: 1} is its definition.
                        referencePipeline.addAll(Document.parse(new Document("p", pipeline).toJson()
                            .replace("{\"$count\": {}}", "{\"$sum\": 1}")).getList("p", Document.class));
                        reference().aggregate(referencePipeline).into(expected);
                        List<Document> actual = router.aggregate(tenant, db + "." + layout, pipeline, false).documents();
                        String what = context + " pipeline=" + pipeline;
                        if (ordered(pipeline)) {
                            assertThat(actual).as(what).containsExactlyElementsOf(expected);
                        } else {
                            assertThat(actual).as(what).containsExactlyInAnyOrderElementsOf(expected);
                        }
                    }
                    case 0 -> assertThat(router.count(tenant, db + "." + layout, filter, false)).as(context)
                        .isEqualTo(reference().countDocuments(scoped(tenant, filter)));
                    case 1 -> {
                        String key = random.nextBoolean() ? "plan" : "age";
                        List<Object> expected = new ArrayList<>();
                        for (org.bson.BsonValue value : reference().distinct(key, scoped(tenant, filter), org.bson.BsonValue.class)) {
                            expected.add(io.shardline.router.internal.ReadPath.toJava(value));
                        }
                        assertThat(router.distinct(tenant, db + "." + layout, key, filter)).as(context + " distinct " + key)
                            .containsExactlyInAnyOrderElementsOf(expected);
                    }
                    default -> {
                        FindRequest request = randomFind(random, filter);
                        List<Document> expected = new ArrayList<>();
                        referenceFind(tenant, request).into(expected);
                        List<Document> actual = router.find(tenant, db + "." + layout, request).documents();
                        String what = context + " sort=" + request.sort() + " skip=" + request.skip() + " limit=" + request.limit()
                            + " projection=" + request.projection();
                        if (request.sort() == null) {
                            // No sort: no order is promised, by MongoDB or by the router.
                            assertThat(actual).as(what).containsExactlyInAnyOrderElementsOf(expected);
                        } else {
                            assertThat(actual).as(what).containsExactlyElementsOf(expected);
                        }
                    }
                }
            }
            System.out.printf("differential %s seed=%d: %d counts, %d distincts, %d finds, %d pipelines, all equal to the reference%n",
                layout, SEED, kinds[0], kinds[1], kinds[2] + kinds[3], kinds[4]);
        }
    }

    private static MongoCollection<Document> reference() {
        return referenceClient.getDatabase(db).getCollection("users");
    }

    private static Document scoped(String tenant, Document filter) {
        return filter.isEmpty() ? new Document("tenantId", tenant) : new Document("$and", List.of(new Document("tenantId", tenant), filter));
    }

    private static FindIterable<Document> referenceFind(String tenant, FindRequest request) {
        FindIterable<Document> find = reference().find(scoped(tenant, request.filter())).skip(request.skip()).limit(request.limit());
        if (request.sort() != null) {
            find.sort(request.sort());
        }
        if (request.projection() != null) {
            find.projection(request.projection());
        }
        return find;
    }

    private static Document randomFilter(Random random, String tenant) {
        return switch (random.nextInt(9)) {
            case 0 -> new Document();
            case 1 -> new Document("plan", PLANS.get(random.nextInt(PLANS.size())));
            case 2 -> new Document("age", new Document("$gte", 18 + random.nextInt(50)));
            case 3 -> new Document("$or", List.of(new Document("plan", PLANS.get(random.nextInt(PLANS.size()))),
                new Document("age", new Document("$lt", 18 + random.nextInt(50)))));
            case 4 -> new Document("name", new Document("$in", List.of(NAMES.get(random.nextInt(NAMES.size())), NAMES.get(random.nextInt(NAMES.size())))));
            case 5 -> new Document("_id", tenant + "-" + random.nextInt(40));
            case 6 -> new Document("tenantId", tenant).append("active", random.nextBoolean());
            case 7 -> new Document("score", new Document("$gt", random.nextInt(900)).append("$lte", 950)).append("age", new Document("$exists", true));
            default -> new Document("$and", List.of(new Document("tenantId", new Document("$in", List.of(tenant))),
                new Document("plan", new Document("$ne", PLANS.get(random.nextInt(PLANS.size()))))));
        };
    }

    private static boolean ordered(List<Document> pipeline) {
        Document last = pipeline.get(pipeline.size() - 1);
        return last.containsKey("$sort") || last.containsKey("$count") || pipeline.stream().anyMatch(s -> s.containsKey("$limit"));
    }

    private static List<Document> randomPipeline(Random random, Document filter) {
        Document match = new Document("$match", filter);
        return switch (random.nextInt(6)) {
            case 0 -> List.of(match, new Document("$group", new Document("_id", "$plan").append("n", new Document("$sum", 1))
                    .append("c", new Document("$count", new Document()))
                    .append("total", new Document("$sum", "$score")).append("minAge", new Document("$min", "$age"))
                    .append("maxAge", new Document("$max", "$age")).append("avgAge", new Document("$avg", "$age"))
                    .append("sumMisc", new Document("$sum", "$misc")).append("avgMisc", new Document("$avg", "$misc"))
                    .append("minMisc", new Document("$min", "$misc")).append("maxMisc", new Document("$max", "$misc"))),
                new Document("$sort", new Document("_id", 1)));
            case 1 -> List.of(match, new Document("$sort", new Document("createdAt", 1).append("_id", 1)),
                new Document("$group", new Document("_id", "$name").append("first", new Document("$first", "$_id"))
                    .append("last", new Document("$last", "$score"))),
                new Document("$sort", new Document("_id", 1)));
            case 2 -> List.of(match, new Document("$count", "n"));
            case 3 -> List.of(match, new Document("$sort", new Document("score", -1).append("_id", 1)),
                new Document("$skip", random.nextInt(10)), new Document("$limit", 1 + random.nextInt(20)),
                new Document("$project", new Document("name", 1).append("score", 1)));
            case 4 -> List.of(match, new Document("$project", new Document("name", 1).append("age", 1).append("plan", 1)),
                new Document("$group", new Document("_id", new Document("plan", "$plan").append("name", "$name"))
                    .append("c", new Document("$sum", 1))),
                new Document("$match", new Document("c", new Document("$gte", 2))),
                new Document("$sort", new Document("_id.plan", 1).append("_id.name", 1)));
            default -> List.of(new Document("$group", new Document("_id", null).append("s", new Document("$sum", "$age"))));
        };
    }

    private static FindRequest randomFind(Random random, Document filter) {
        Document sort = switch (random.nextInt(5)) {
            case 0 -> null;
            case 1 -> new Document("age", 1).append("_id", 1);
            case 2 -> new Document("score", -1).append("_id", 1);
            case 3 -> new Document("name", 1).append("age", -1).append("_id", -1);
            default -> new Document("plan", 1).append("createdAt", -1).append("_id", 1);
        };
        int skip = random.nextInt(3) == 0 ? random.nextInt(20) : 0;
        int limit = random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(30);
        if (sort == null) {
            // Without a sort, neither MongoDB nor the router promises an order; a limit would pick arbitrary documents.
            skip = 0;
            limit = 0;
        }
        Document projection = switch (random.nextInt(4)) {
            case 0 -> new Document("name", 1).append("age", 1);
            case 1 -> new Document("score", 0).append("createdAt", 0);
            default -> null;
        };
        return new FindRequest(filter, sort, skip, limit, projection, false);
    }
}
