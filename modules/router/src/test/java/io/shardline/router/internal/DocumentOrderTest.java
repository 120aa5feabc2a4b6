package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

/** How a MongoDB sort reads a document's key: arrays by their extreme element, missing as null, paths through arrays. */
class DocumentOrderTest {

    private static List<Object> sortedIds(Document sort, Document... documents) {
        List<Document> list = new ArrayList<>(List.of(documents));
        list.sort(new DocumentOrder(sort));
        return list.stream().map(d -> d.get("_id")).toList();
    }

    @Test
    void shouldSortAnArrayByItsSmallestElementAscendingAndItsLargestDescending() {
        Document one = new Document("_id", 1).append("v", List.of(1, 9));
        Document two = new Document("_id", 2).append("v", 5);

        assertThat(sortedIds(new Document("v", 1), two, one)).containsExactly(1, 2);
        assertThat(sortedIds(new Document("v", -1), one, two)).containsExactly(1, 2);
    }

    @Test
    void shouldSortAnEmptyArrayBeforeNullAndMissingAsNull() {
        Document empty = new Document("_id", "empty").append("v", List.of());
        Document none = new Document("_id", "null").append("v", null);
        Document missing = new Document("_id", "missing");
        Document number = new Document("_id", "number").append("v", 0);

        assertThat(sortedIds(new Document("v", 1).append("_id", -1), number, missing, none, empty))
            .containsExactly("empty", "null", "missing", "number");
    }

    @Test
    void shouldReadAPathThroughAnArrayOfDocuments() {
        Document a = new Document("_id", "a").append("addresses", List.of(new Document("zip", "9"), new Document("zip", "1")));
        Document b = new Document("_id", "b").append("addresses", List.of(new Document("zip", "5")));
        Document c = new Document("_id", "c").append("addresses", List.of(new Document("zip", "7"), new Document("city", "x")));

        assertThat(sortedIds(new Document("addresses.zip", 1), a, b, c)).as("c has an element without zip: null").containsExactly("c", "a", "b");
        assertThat(sortedIds(new Document("addresses.zip", -1), a, b, c)).containsExactly("a", "c", "b");
    }

    @Test
    void shouldOrderMixedTypesAndDocumentsByValue() {
        Document text = new Document("_id", 1).append("p", "x");
        Document doc = new Document("_id", 2).append("p", new Document("a", 1));
        Document bigger = new Document("_id", 3).append("p", new Document("a", 2));
        Document flag = new Document("_id", 4).append("p", true);

        assertThat(sortedIds(new Document("p", 1), flag, bigger, doc, text)).containsExactly(1, 2, 3, 4);
    }
}
