package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Random;

import org.bson.Document;
import org.bson.types.Decimal128;
import org.bson.types.ObjectId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;

import io.shardline.shard.EmbeddedShard;

/**
 * The router and a shard order the same documents alike: seeded documents of every type the router orders (numbers
 * of each type, strings with unicode, documents, arrays of mixed types, empty and nested arrays, null and missing,
 * booleans, dates, ObjectIds) are sorted by the embedded shard (its values decoded by mongo-java-server and read
 * as the driver would) and by {@link DocumentOrder} (the same documents decoded by the driver). A router merges what
 * shards sorted, so the two must agree; that the order is MongoDB's is {@code ValueOrderTest}'s and
 * {@code DocumentOrderTest}'s. A failure names the seed, the sort and where the two orders part.
 */
class SortOrderConformanceIT {

    private static final long SEED = Long.getLong("shardline.sort.seed", 20261130L);
    private static final int DOCUMENTS = 400;

    private static EmbeddedShard shard;
    private static MongoClient client;
    private static MongoCollection<Document> values;

    @BeforeAll
    static void load() {
        shard = EmbeddedShard.start("sort-order");
        client = MongoClients.create(shard.connectionString());
        values = client.getDatabase("conformance").getCollection("values");
        Random random = new Random(SEED);
        List<Document> documents = new ArrayList<>();
        for (int i = 0; i < DOCUMENTS; i++) {
            Document document = new Document("_id", i);
            if (random.nextInt(10) > 0) {
                document.append("v", value(random, 0));
            }
            List<Document> nested = new ArrayList<>();
            for (int j = random.nextInt(3); j > 0; j--) {
                nested.add(random.nextInt(5) == 0 ? new Document("other", 1) : new Document("b", scalar(random)));
            }
            document.append("a", random.nextInt(6) == 0 ? new Document("b", scalar(random)) : nested);
            documents.add(document);
        }
        values.insertMany(documents);
    }

    @AfterAll
    static void stop() {
        client.close();
        shard.close();
    }

    @Test
    void shouldSortAsTheShardSortsAscendingAndDescending() {
        for (Document sort : List.of(new Document("v", 1).append("_id", 1), new Document("v", -1).append("_id", 1),
            new Document("a.b", 1).append("_id", -1), new Document("a.b", -1).append("_id", 1),
            new Document("v", -1).append("a.b", 1).append("_id", 1))) {
            List<Object> byShard = ids(values.find().sort(sort).into(new ArrayList<>()));
            List<Document> mine = values.find().into(new ArrayList<>());
            mine.sort(new DocumentOrder(sort));
            List<Object> byRouter = ids(mine);

            int parting = 0;
            while (parting < byShard.size() && byShard.get(parting).equals(byRouter.get(parting))) {
                parting++;
            }
            String where = parting == byShard.size() ? "" : " first parting at position " + parting + ": shard "
                + around(byShard, parting) + ", router " + around(byRouter, parting);
            assertThat(byRouter).as("seed " + SEED + ", sort " + sort.toJson() + where).containsExactlyElementsOf(byShard);
        }
    }

    private static List<String> around(List<Object> ids, int position) {
        return ids.subList(Math.max(0, position - 2), Math.min(ids.size(), position + 4)).stream()
            .map(id -> String.valueOf(values.find(new Document("_id", id)).first().toJson())).toList();
    }

    private static List<Object> ids(List<Document> documents) {
        return documents.stream().map(d -> d.get("_id")).toList();
    }

    private static Object value(Random random, int depth) {
        int kind = random.nextInt(depth > 1 ? 9 : 12);
        return switch (kind) {
            case 9 -> {
                List<Object> array = new ArrayList<>();
                for (int i = random.nextInt(4); i > 0; i--) {
                    array.add(value(random, depth + 1));
                }
                yield array;
            }
            case 10, 11 -> {
                Document document = new Document();
                for (int i = random.nextInt(3); i > 0; i--) {
                    document.append(random.nextBoolean() ? "x" : "y" + i, value(random, depth + 1));
                }
                yield document;
            }
            default -> scalar(random);
        };
    }

    private static Object scalar(Random random) {
        return switch (random.nextInt(11)) {
            case 0 -> null;
            case 1 -> random.nextInt(7) - 3;
            case 2 -> (long) (random.nextInt(7) - 3);
            case 3 -> (random.nextInt(13) - 6) / 2.0;
            case 4 -> new Decimal128(random.nextInt(7) - 3);
            case 5 -> List.of("a", "B", "b", "é", "\u00fc", "z", "\uD83D\uDE00", "\uFF5E", "").get(random.nextInt(9));
            case 6 -> random.nextBoolean();
            case 7 -> new Date(1_700_000_000_000L + random.nextInt(5) * 1000L);
            case 8 -> new ObjectId(String.format("%024x", random.nextInt(5)));
            case 9 -> (long) Integer.MAX_VALUE + random.nextInt(3);
            default -> random.nextInt(3) * 1.5;
        };
    }
}
