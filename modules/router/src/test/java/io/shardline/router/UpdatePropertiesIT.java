package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.shardline.core.key.HashedKeyStrategy;
import io.shardline.core.key.ShardKeyStrategy;
import io.shardline.core.key.TenantKeyStrategy;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.api.RouterException;
import io.shardline.router.api.WriteResult;
import io.shardline.router.internal.UpdateRules;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * A property of updates, on real shards through the router: random update documents (every operator the router
 * accepts, replacements, upserts; field names drawn from the tenant field, the shard-key fields, {@code _sk}, dotted
 * paths under and above them, arrays and ordinary fields) never change a stored document's tenant or shard key, give
 * a new document its caller's tenant, and never leave a document outside the range its key encodes. Seeded: a failure
 * names the seed and the update ({@code -Dshardline.update.seed=}, {@code -Dshardline.update.rounds=}).
 */
@ShardlineCluster
class UpdatePropertiesIT {

    private static final long SEED = Long.getLong("shardline.update.seed", 20260319L);
    private static final int ROUNDS = Integer.getInteger("shardline.update.rounds", 400);
    private static final List<String> TENANTS = List.of("acme", "globex");
    private static final List<String> PATHS = List.of("tenantId", "userId", "_sk", "tenantId.x", "userId.0", "_sk.a", "name", "other", "n",
        "tags", "tags.0", "profile", "profile.region", "name.first", "tenant", "userIdentity");
    private static final List<String> OPERATORS = UpdateRules.OPERATORS.stream().sorted().toList();

    private static RouterFixture fixture;
    private static ShardRouter router;
    private static ShardContents shards;
    private static Map<String, Namespace> namespaces;

    /** A namespace under test, and what each of its documents' tenant and shard-key fields must stay. */
    private record Namespace(String name, ShardKeyStrategy strategy, List<Chunk> chunks, Map<Object, Document> placement) {
    }

    @BeforeAll
    static void start(EmbeddedCluster cluster, TestNames names) throws Exception {
        fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        String users = names.database() + ".users";
        String sessions = names.database() + ".sessions";
        namespaces = Map.of(
            "users", new Namespace(users, new TenantKeyStrategy("tenantId", null, 0),
                InitialChunks.layout(users, 1, InitialChunks.valueBoundaries(List.of("b")), List.of("s1", "s2")), new HashMap<>()),
            "sessions", new Namespace(sessions, new HashedKeyStrategy("userId"),
                InitialChunks.layout(sessions, 1, InitialChunks.hashedBoundaries(4), List.of("s1", "s2", "s1", "s2")), new HashMap<>()));
        fixture.namespace(users, ShardKeyStrategyType.TENANT, List.of("tenantId"), namespaces.get("users").chunks());
        fixture.namespace(sessions, ShardKeyStrategyType.HASHED, List.of("userId"), namespaces.get("sessions").chunks());
        router = fixture.router();
        shards = new ShardContents(Map.of("s1", cluster.shards().get("s1"), "s2", cluster.shards().get("s2")));
        for (Namespace ns : namespaces.values()) {
            for (String tenant : TENANTS) {
                List<Document> documents = new ArrayList<>();
                for (int i = 0; i < 6; i++) {
                    documents.add(new Document("_id", tenant + "-" + i).append("userId", "u" + i + tenant.charAt(0)).append("name", "n" + i)
                        .append("other", "o" + i).append("n", i).append("tags", List.of("a", "b")).append("profile", new Document("region", "eu")));
                }
                router.insert(tenant, ns.name(), documents);
            }
            record(ns);
        }
    }

    @AfterAll
    static void stop() throws InterruptedException {
        router.close();
        fixture.publisher.close();
        shards.close();
    }

    /** Remembers the tenant and shard-key fields of every document not seen before. */
    private static void record(Namespace ns) {
        for (Document document : stored(ns)) {
            ns.placement().putIfAbsent(document.get("_id"), placementOf(ns, document));
        }
    }

    private static Document placementOf(Namespace ns, Document document) {
        Document placement = new Document("tenantId", document.get("tenantId"));
        ns.strategy().fields().forEach(field -> placement.put(field, document.get(field)));
        return placement;
    }

    private static List<Document> stored(Namespace ns) {
        return shards.snapshot(ns.name()).values().stream().flatMap(List::stream).toList();
    }

    @Test
    void shouldNeverChangeATenantOrShardKeyNorMisplaceADocumentWhateverTheUpdate() {
        Random random = new Random(SEED);
        int applied = 0;
        int refused = 0;
        int upserted = 0;
        for (int round = 0; round < ROUNDS; round++) {
            Namespace ns = random.nextBoolean() ? namespaces.get("users") : namespaces.get("sessions");
            String tenant = TENANTS.get(random.nextInt(TENANTS.size()));
            Document filter = randomFilter(random, tenant);
            Document update = random.nextInt(5) == 0 ? randomReplacement(random) : randomOperators(random);
            boolean upsert = random.nextInt(3) == 0;
            boolean multi = !upsert && random.nextBoolean();
            String context = "seed=" + SEED + " round=" + round + " " + ns.name() + " as " + tenant + " filter=" + filter.toJson()
                + " update=" + update.toJson() + " upsert=" + upsert + " multi=" + multi;
            try {
                WriteResult result = router.update(tenant, ns.name(), filter, update, multi, upsert);
                applied++;
                for (Object id : result.upsertedIds()) {
                    upserted++;
                    Document created = stored(ns).stream().filter(d -> d.toBsonDocument().get("_id").equals(id)).findFirst()
                        .orElseThrow(() -> new AssertionError("upserted " + id + " is on no shard, " + context));
                    assertThat(created.get("tenantId")).as("the tenant of a new document, " + context).isEqualTo(tenant);
                }
            } catch (RouterException refusal) {
                refused++;
            } catch (RuntimeException unexpected) {
                throw new AssertionError("neither applied nor refused: " + context, unexpected);
            }
            record(ns);
            for (Document document : stored(ns)) {
                assertThat(placementOf(ns, document)).as("tenant and shard key of " + document.get("_id") + " after " + context)
                    .isEqualTo(ns.placement().get(document.get("_id")));
            }
            assertThat(shards.misplaced(ns.name(), ns.strategy(), ns.chunks())).as(context).isEmpty();
        }
        System.out.printf("update properties seed=%d: %d updates applied (%d upserts), %d refused, no tenant or shard key changed%n",
            SEED, applied, upserted, refused);
        assertThat(applied).as("updates the rules let through, seed=" + SEED).isGreaterThan(ROUNDS / 10);
        assertThat(refused).as("updates the rules refused, seed=" + SEED).isGreaterThan(ROUNDS / 10);
    }

    private static Document randomFilter(Random random, String tenant) {
        return switch (random.nextInt(6)) {
            case 0 -> new Document();
            case 1 -> new Document("_id", tenant + "-" + random.nextInt(8));
            case 2 -> new Document("userId", "u" + random.nextInt(8) + "ag".charAt(random.nextInt(2)));
            case 3 -> new Document("userId", new Document("$eq", "u" + random.nextInt(8) + tenant.charAt(0))).append("name", "n" + random.nextInt(6));
            case 4 -> new Document("tenantId", tenant).append("n", new Document("$gte", random.nextInt(6)));
            default -> new Document("name", "n" + random.nextInt(6));
        };
    }

    private static Document randomOperators(Random random) {
        Document update = new Document();
        int operators = 1 + random.nextInt(3);
        for (int i = 0; i < operators; i++) {
            String operator = OPERATORS.get(random.nextInt(OPERATORS.size()));
            Document fields = new Document();
            int paths = 1 + random.nextInt(2);
            for (int p = 0; p < paths; p++) {
                fields.put(PATHS.get(random.nextInt(PATHS.size())), operand(random, operator));
            }
            update.put(operator, fields);
        }
        return update;
    }

    private static Object operand(Random random, String operator) {
        return switch (operator) {
            case "$rename" -> PATHS.get(random.nextInt(PATHS.size()));
            case "$currentDate" -> true;
            case "$bit" -> new Document("or", 1 + random.nextInt(4));
            case "$pop" -> random.nextBoolean() ? 1 : -1;
            case "$pullAll" -> List.of(randomValue(random));
            case "$inc", "$mul" -> 1 + random.nextInt(3);
            default -> randomValue(random);
        };
    }

    private static Object randomValue(Random random) {
        return switch (random.nextInt(7)) {
            case 0 -> TENANTS.get(random.nextInt(TENANTS.size()));
            case 1 -> "u" + random.nextInt(8) + "ag".charAt(random.nextInt(2));
            case 2 -> "zz";
            case 3 -> random.nextInt(10);
            case 4 -> List.of("a", random.nextInt(3));
            case 5 -> new Document("region", random.nextBoolean() ? "eu" : "us");
            default -> "n" + random.nextInt(6);
        };
    }

    private static Document randomReplacement(Random random) {
        Document replacement = new Document("name", "r" + random.nextInt(6)).append("n", random.nextInt(10));
        for (int i = random.nextInt(3); i > 0; i--) {
            replacement.put(PATHS.get(random.nextInt(PATHS.size())), randomValue(random));
        }
        return replacement;
    }
}
