package io.shardline.shard.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import de.bwaldvogel.mongo.backend.DocumentComparator;
import de.bwaldvogel.mongo.bson.Document;

/**
 * The shard sorts in MongoDB's order: the same as mongo-java-server's where that one is MongoDB's (scalars of mixed
 * types, flat arrays, missing fields, paths), and MongoDB's where it is not (empty arrays, nested arrays).
 */
class KeyedSortTest {

    private static Object value(Random random) {
        return switch (random.nextInt(7)) {
            case 0 -> random.nextInt(5);
            case 1 -> random.nextDouble() * 5;
            case 2 -> "s" + random.nextInt(5);
            case 3 -> null;
            case 4 -> List.of(random.nextInt(5), "s" + random.nextInt(3));
            case 5 -> new Document("x", random.nextInt(3));
            default -> random.nextBoolean();
        };
    }

    private static List<Document> documents(Random random) {
        List<Document> documents = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            Document document = new Document("_id", i);
            if (random.nextInt(6) > 0) {
                document.put("a", value(random));
            }
            if (random.nextInt(6) > 0) {
                document.put("b", new Document("c", value(random)));
            }
            documents.add(document);
        }
        return documents;
    }

    @Test
    void shouldOrderAsMongoJavaServerDoesWhereItsOrderIsMongoDbsForMixedTypesMissingFieldsArraysAndPaths() {
        List<Document> orders = List.of(new Document("a", 1), new Document("a", -1), new Document("b.c", 1).append("a", -1),
            new Document("a", 1).append("_id", -1));
        for (int seed = 0; seed < 20; seed++) {
            List<Document> documents = documents(new Random(seed));
            for (Document orderBy : orders) {
                List<Document> expected = new ArrayList<>(documents);
                expected.sort(new DocumentComparator(orderBy));
                List<Document> actual = new ArrayList<>(documents);
                actual.sort(KeyedSort.of(orderBy));

                assertThat(actual).as("seed %d, sort %s", seed, orderBy).containsExactlyElementsOf(expected);
            }
        }
    }

    @Test
    void shouldSortEmptyAndNestedArraysAsMongoDbDoes() {
        List<Document> documents = new ArrayList<>(List.of(
            new Document("_id", 4).append("a", List.of(List.of(0))),
            new Document("_id", 3).append("a", "x"),
            new Document("_id", 2).append("a", null),
            new Document("_id", 1).append("a", List.of()),
            new Document("_id", 0).append("a", List.of())));

        documents.sort(KeyedSort.of(new Document("a", 1).append("_id", 1)));

        // Empty arrays first (ties broken by _id), then null, then the string, then the array [0] (an array value).
        assertThat(documents).extracting(d -> d.get("_id")).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void shouldLeaveNaturalAndMetaOrdersToMongoJavaServer() {
        assertThat(KeyedSort.of(new Document("$natural", -1))).isNull();
        assertThat(KeyedSort.of(new Document("score", new Document("$meta", "textScore")))).isNull();
        assertThat(KeyedSort.of(new Document())).isNull();
        assertThat(KeyedSort.of(null)).isNull();
    }
}
