package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import org.bson.BsonValue;
import org.bson.Document;
import org.bson.types.Decimal128;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

import io.shardline.bson.ValueOrder;
import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.ShardKey;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.FindRequest;
import io.shardline.router.api.RouterException;
import io.shardline.router.internal.ReadPath;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * Projections with sorts, and {@code distinct}, answer as one unsharded collection of the same engine does, over
 * documents of mixed types (arrays of mixed types and of arrays, embedded documents, null and missing, int, long,
 * double and decimal in one field, dates, booleans, unicode) spread over three shards in two layouts (hashed by
 * {@code _id}; by tenant with each tenant split in hashed sub-ranges). A failure names the seed and the query.
 *
 * <p>Sorts put a unique field ({@code _id} or {@code at}) before any field holding arrays, documents, booleans or
 * missing values: how those order is the comparator's concern, tested on its own; here they are sort paths the
 * shards must return and the projection must not collide with. The data and queries stay clear of the places where
 * the embedded engine (mongo-java-server) itself differs from MongoDB, so that the unsharded collection is a faithful
 * reference: it drops nested arrays under a projected sub-path and leaves them in an excluded one (MongoDB traverses
 * them), treats a projection of only {@code $slice} as an inclusion, fails on {@code $slice} of a missing field or skipping past
 * the end of the array, on
 * {@code distinct} of a dotted path through an array holding scalars, and ignores projection expressions. Its
 * {@code distinct} also drops some embedded documents that MongoDB holds distinct (of {@code {city: "z", langs: ["en"],
 * score: 0}} beside {@code {city: "z", langs: ["en", "x"], score: 0.0}} and {@code {city: "é", langs: ["en"], score: 0.0}}
 * it keeps only the last two), on every shard as on the reference: for the fields holding such documents the test
 * checks that the router answers MongoDB's values only (an array gives its elements, null counts, a missing field does
 * not, over the documents the reference collection returns), each once.
 */
@ShardlineCluster
class RouterProjectionDistinctIT {

    private static final long SEED = Long.getLong("shardline.projection.seed", 20261207L);
    private static final int QUERIES_PER_LAYOUT = Integer.getInteger("shardline.projection.queries", 400);
    private static final List<String> TENANTS = List.of("acme", "bravo", "cyan", "delta");
    private static final List<String> LAYOUTS = List.of("hashed", "suffixed");
    private static final List<String> NAMES = List.of("ann", "Ann", "Zoë", "ångström", "名前", "emoji 😀", "e\u0301", "é", "");
    private static final List<String> COMPLEX_SORTS = List.of("details", "details.code", "profile", "profile.city", "tags",
        "items.sku", "roles", "active", "details.level", "nothing");
    private static final List<String> DISTINCT_KEYS = List.of("active", "age", "tags", "profile", "details", "name",
        "profile.city", "items.sku", "items.qty", "roles", "nothing", "profile.langs");

    /** Top-level fields whose values include embedded documents. */
    private static final Set<String> DOCUMENT_VALUED = Set.of("profile", "details");

    private static EmbeddedShard s3;
    private static EmbeddedShard reference;
    private static MongoClient referenceClient;
    private static ShardRouter router;
    private static String db;

    @BeforeAll
    static void loadData(EmbeddedCluster cluster, TestNames names) throws Exception {
        s3 = EmbeddedShard.start("s3-" + names.database());
        reference = EmbeddedShard.start("reference-projections");
        referenceClient = MongoClients.create(reference.connectionString());
        RouterFixture fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        fixture.register("s3", s3);
        db = names.database();
        List<String> shards = List.of("s1", "s2", "s3");
        fixture.namespace(db + ".hashed", ShardKeyStrategyType.HASHED, List.of("_id"),
            InitialChunks.layout(db + ".hashed", 1, InitialChunks.hashedBoundaries(6), shards));
        List<ShardKey> cuts = new ArrayList<>();
        for (String tenant : TENANTS) {
            cuts.add(KeyEncoding.encodeTuple(List.of(tenant, 2L)));
            cuts.add(KeyEncoding.encodeTuple(List.of(tenant, 4L)));
        }
        fixture.namespace(db + ".suffixed", ShardKeyStrategyType.TENANT, List.of("tenantId", "_id"), 6,
            InitialChunks.layout(db + ".suffixed", 1, cuts, shards));
        router = fixture.router();

        Random random = new Random(SEED);
        List<Document> all = new ArrayList<>();
        for (String tenant : TENANTS) {
            List<Document> ofTenant = new ArrayList<>();
            for (int i = 0; i < 90; i++) {
                ofTenant.add(DataGenerator.document(random, tenant, i, all.size() + ofTenant.size()));
            }
            for (String layout : LAYOUTS) {
                router.insert(tenant, db + "." + layout, copies(ofTenant));
            }
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
    void shouldProjectSortedFindsAndAnswerDistinctAsOneUnshardedCollection() {
        int[] counts = new int[3];
        for (String layout : LAYOUTS) {
            Random random = new Random(SEED ^ layout.hashCode());
            for (int q = 0; q < QUERIES_PER_LAYOUT; q++) {
                String tenant = TENANTS.get(random.nextInt(TENANTS.size()));
                Document filter = randomFilter(random);
                String context = "seed=" + SEED + " layout=" + layout + " query#" + q + " tenant=" + tenant + " filter=" + filter.toJson();
                if (random.nextInt(3) == 0) {
                    String key = DISTINCT_KEYS.get(random.nextInt(DISTINCT_KEYS.size()));
                    assertDistinct(layout, tenant, key, filter, context + " distinct " + key);
                    counts[0]++;
                } else if (find(random, layout, tenant, filter, context)) {
                    counts[1]++;
                } else {
                    counts[2]++;
                }
            }
        }
        System.out.printf("projections and distinct seed=%d: %d distincts, %d finds equal to the reference, %d refusals%n",
            SEED, counts[0], counts[1], counts[2]);
        assertThat(counts[1]).isGreaterThan(QUERIES_PER_LAYOUT);
    }

    /** Runs one find; false when the router refused it, as it must for that projection. */
    private static boolean find(Random random, String layout, String tenant, Document filter, String context) {
        Document sort = randomSort(random);
        Document projection = ProjectionGenerator.projection(random);
        int skip = random.nextInt(3) == 0 ? random.nextInt(15) : 0;
        int limit = random.nextInt(3) == 0 ? 0 : 1 + random.nextInt(40);
        FindRequest request = new FindRequest(filter, sort, skip, limit, projection, false);
        String what = context + " sort=" + sort.toJson() + " skip=" + skip + " limit=" + limit
            + " projection=" + (projection == null ? null : projection.toJson());
        String refused = ProjectionGenerator.refusedField(projection, sort);
        if (refused != null) {
            assertThatThrownBy(() -> router.find(tenant, db + "." + layout, request)).as(what)
                .isInstanceOf(RouterException.class).hasMessageContaining("projection." + refused)
                .satisfies(e -> assertThat(((RouterException) e).kind()).isEqualTo(RouterException.Kind.BAD_REQUEST));
            return false;
        }
        List<Document> expected = new ArrayList<>();
        reference().find(scoped(tenant, filter)).sort(sort).skip(skip).limit(limit).projection(projection).into(expected);
        List<Document> actual = router.find(tenant, db + "." + layout, request).documents();
        assertThat(actual).as(what).containsExactlyElementsOf(expected);
        assertThat(actual).as(what + ": the stored shard key is never returned").noneMatch(d -> d.containsKey("_sk"));
        return true;
    }

    private static void assertDistinct(String layout, String tenant, String key, Document filter, String context) {
        List<Object> engine = new ArrayList<>();
        for (BsonValue value : reference().distinct(key, scoped(tenant, filter), BsonValue.class)) {
            engine.add(ReadPath.toJava(value));
        }
        List<Object> actual = router.distinct(tenant, db + "." + layout, key, filter);
        Set<Object> actualIdentities = identities(actual);
        Set<Object> engineIdentities = identities(engine);
        String what = context + " reference=" + engine + " actual=" + actual;
        assertThat(actual).as(what + ": one value per equality class").hasSize(actualIdentities.size());
        if (DOCUMENT_VALUED.contains(key)) {
            // The engine's own distinct drops some embedded documents (see the class comment), on every shard as on the
            // reference: the router's answer holds MongoDB's values only, each once, and the engine's are among them.
            Set<Object> expected = new TreeSet<>(ValueOrder.INSTANCE);
            for (Document document : reference().find(scoped(tenant, filter))) {
                if (document.containsKey(key)) {
                    Object value = document.get(key);
                    List<?> values = value instanceof List<?> list ? list : Arrays.asList(value);
                    expected.addAll(values);
                }
            }
            assertThat(expected).as(what + ": the engine's values are among MongoDB's").containsAll(engineIdentities);
            assertThat(expected).as(what + ": the router's values are among MongoDB's").containsAll(actualIdentities);
        } else {
            assertThat(actual).as(what).hasSameSizeAs(engine);
            assertThat(actualIdentities).as(what).isEqualTo(engineIdentities);
        }
    }

    private static Set<Object> identities(List<Object> values) {
        Set<Object> identities = new TreeSet<>(ValueOrder.INSTANCE);
        identities.addAll(values);
        return identities;
    }

    private static MongoCollection<Document> reference() {
        return referenceClient.getDatabase(db).getCollection("reference");
    }

    private static Document scoped(String tenant, Document filter) {
        return filter.isEmpty() ? new Document("tenantId", tenant) : new Document("$and", List.of(new Document("tenantId", tenant), filter));
    }

    private static Document randomFilter(Random random) {
        return switch (random.nextInt(6)) {
            case 0 -> new Document("active", random.nextBoolean());
            case 1 -> new Document("age", new Document("$gte", 20 + random.nextInt(40)));
            case 2 -> new Document("name", new Document("$in", List.of(NAMES.get(random.nextInt(NAMES.size())),
                NAMES.get(random.nextInt(NAMES.size())))));
            case 3 -> new Document("at", new Document("$lt", new Date(DataGenerator.EPOCH + random.nextInt(360) * 1000L)));
            default -> new Document();
        };
    }

    /** Up to two fields of plain values, a unique field, then up to two fields of any type. */
    private static Document randomSort(Random random) {
        Document sort = new Document();
        List<String> plain = new ArrayList<>(List.of("name", "age"));
        for (int n = random.nextInt(3); n > 0; n--) {
            sort.put(plain.remove(random.nextInt(plain.size())), direction(random));
        }
        sort.put(random.nextBoolean() ? "_id" : "at", direction(random));
        for (int n = random.nextInt(3); n > 0; n--) {
            String path = COMPLEX_SORTS.get(random.nextInt(COMPLEX_SORTS.size()));
            if (sort.keySet().stream().noneMatch(other -> other.equals(path) || path.startsWith(other + ".") || other.startsWith(path + "."))) {
                sort.put(path, direction(random));
            }
        }
        return sort;
    }

    private static int direction(Random random) {
        return random.nextBoolean() ? 1 : -1;
    }

    /** Documents of one tenant with every type the router handles; see the class comment for what they avoid. */
    static final class DataGenerator {

        static final long EPOCH = 1_700_000_000_000L;

        private DataGenerator() {
        }

        static Document document(Random random, String tenant, int i, int unique) {
            Document doc = new Document("_id", tenant + "-" + i).append("tenantId", tenant)
                .append("at", new Date(EPOCH + unique * 1000L))
                .append("name", NAMES.get(random.nextInt(NAMES.size())))
                .append("age", number(random, 20 + random.nextInt(40)))
                .append("roles", roles(random));
            switch (random.nextInt(4)) {
                case 0 -> doc.append("active", null);
                case 1 -> { }
                default -> doc.append("active", random.nextBoolean());
            }
            Object details = details(random);
            if (details != Missing.VALUE) {
                doc.append("details", details);
            }
            switch (random.nextInt(5)) {
                case 0 -> { }
                case 1 -> doc.append("profile", random.nextBoolean() ? null : "plain");
                default -> {
                    Document profile = new Document();
                    if (random.nextInt(4) > 0) {
                        profile.append("city", random.nextInt(5) == 0 ? null : NAMES.get(random.nextInt(NAMES.size())));
                    }
                    profile.append("langs", List.of("en", NAMES.get(random.nextInt(NAMES.size()))).subList(0, 1 + random.nextInt(2)));
                    profile.append("score", number(random, random.nextInt(4)));
                    doc.append("profile", profile);
                }
            }
            if (random.nextInt(6) > 0) {
                doc.append("tags", tags(random));
            }
            if (random.nextInt(3) > 0) {
                List<Document> items = new ArrayList<>();
                for (int n = random.nextInt(4); n > 0; n--) {
                    items.add(new Document("sku", "sku-" + random.nextInt(6)).append("qty", number(random, random.nextInt(4))));
                }
                doc.append("items", items);
            }
            return doc;
        }

        private enum Missing { VALUE }

        /** The same small number as an int, a long, a double or a decimal. */
        static Object number(Random random, int value) {
            return switch (random.nextInt(5)) {
                case 0 -> (long) value;
                case 1 -> (double) value;
                case 2 -> new Decimal128(value);
                case 3 -> value + 0.5;
                default -> value;
            };
        }

        private static Object roles(Random random) {
            return switch (random.nextInt(6)) {
                case 0 -> null;
                case 1 -> "admin";
                default -> {
                    List<Object> roles = new ArrayList<>();
                    for (int n = random.nextInt(5); n > 0; n--) {
                        roles.add(random.nextInt(4) == 0 ? number(random, n) : "r" + random.nextInt(5));
                    }
                    yield roles;
                }
            };
        }

        private static Object details(Random random) {
            return switch (random.nextInt(7)) {
                case 0 -> Missing.VALUE;
                case 1 -> null;
                case 2 -> "text";
                case 3, 4 -> {
                    List<Object> list = new ArrayList<>();
                    for (int n = random.nextInt(4); n > 0; n--) {
                        list.add(random.nextInt(4) == 0 ? number(random, n) : detail(random));
                    }
                    yield list;
                }
                default -> detail(random);
            };
        }

        private static Document detail(Random random) {
            Document detail = new Document();
            switch (random.nextInt(4)) {
                case 0 -> { }
                case 1 -> detail.append("code", null);
                case 2 -> detail.append("code", number(random, random.nextInt(3)));
                default -> detail.append("code", "c" + random.nextInt(3));
            }
            if (random.nextBoolean()) {
                detail.append("level", number(random, random.nextInt(3)));
            }
            return detail;
        }

        private static Object tags(Random random) {
            return switch (random.nextInt(6)) {
                case 0 -> null;
                case 1 -> "solo";
                case 2 -> List.of();
                default -> {
                    List<Object> tags = new ArrayList<>();
                    for (int n = 1 + random.nextInt(4); n > 0; n--) {
                        tags.add(switch (random.nextInt(8)) {
                            case 0 -> number(random, random.nextInt(3));
                            case 1 -> random.nextBoolean();
                            case 2 -> null;
                            case 3 -> new Date(EPOCH + random.nextInt(3) * 1000L);
                            case 4 -> List.of(random.nextInt(2), "x");
                            case 5 -> new Document("k", number(random, random.nextInt(2)));
                            default -> NAMES.get(random.nextInt(NAMES.size()));
                        });
                    }
                    yield tags;
                }
            };
        }
    }
}
