package io.shardline.router.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.shardline.router.api.FindAndModifyRequest;
import io.shardline.router.api.FindAndModifyResult;

class WireFindAndModifyTest {

    private static FindAndModifyRequest parse(Document command) {
        return WireFindAndModify.request("findAndModify", new CommandFields("findAndModify", command));
    }

    private static void refused(Document command, int code, String... named) {
        assertThatThrownBy(() -> parse(command)).isInstanceOfSatisfying(WireCommandException.class, e -> {
            assertThat(e.error().code()).isEqualTo(code);
            assertThat(e.getMessage()).contains(named);
        });
    }

    @Test
    void shouldReadEveryOptionAsMongoDbNamesIt() {
        Document update = new Document("$set", new Document("a", 1));
        FindAndModifyRequest request = parse(new Document("findAndModify", "c").append("query", new Document("x", 1))
            .append("sort", new Document("y", -1)).append("update", update).append("new", true)
            .append("fields", new Document("a", 1)).append("upsert", 1));
        FindAndModifyRequest removal = parse(new Document("findAndModify", "c").append("remove", true));

        assertThat(request).isEqualTo(new FindAndModifyRequest(new Document("x", 1), new Document("y", -1), update, false, true,
            new Document("a", 1), true));
        assertThat(request.replacement()).isFalse();
        assertThat(removal.remove()).isTrue();
        assertThat(removal.filter()).isEmpty();
        assertThat(parse(new Document("findAndModify", "c").append("update", new Document("a", 1))).replacement()).isTrue();
    }

    @Test
    void shouldRefuseContradictoryOptionsAsFailedToParseNamingThem() {
        Document update = new Document("$set", new Document("a", 1));
        refused(new Document("findAndModify", "c").append("remove", true).append("update", update), WireError.FAILED_TO_PARSE,
            "findAndModify.remove", "both an update and remove=true");
        refused(new Document("findAndModify", "c").append("remove", true).append("new", true), WireError.FAILED_TO_PARSE, "findAndModify.new");
        refused(new Document("findAndModify", "c").append("remove", true).append("upsert", true), WireError.FAILED_TO_PARSE,
            "findAndModify.upsert");
        refused(new Document("findAndModify", "c"), WireError.FAILED_TO_PARSE, "either an update or remove=true");
        refused(new Document("findAndModify", "c").append("update", new Document()), WireError.FAILED_TO_PARSE, "an update document is required");
        refused(new Document("findAndModify", "c").append("update", "x"), WireError.TYPE_MISMATCH, "findAndModify.update must be an object");
        refused(new Document("findAndModify", "c").append("remove", true).append("query", List.of()), WireError.TYPE_MISMATCH,
            "findAndModify.query");
        refused(new Document("findAndModify", "c").append("remove", "yes"), WireError.TYPE_MISMATCH, "findAndModify.remove");
    }

    @Test
    void shouldAnswerWithMongoDbsLastErrorObject() {
        Document value = new Document("_id", 1);

        assertThat(WireFindAndModify.reply(new FindAndModifyResult(value, 1, false, null, List.of("s1")), true))
            .isEqualTo(new Document("lastErrorObject", new Document("n", 1)).append("value", value).append("ok", 1.0));
        assertThat(WireFindAndModify.reply(new FindAndModifyResult(value, 1, true, null, List.of("s1")), false).get("lastErrorObject"))
            .isEqualTo(new Document("n", 1).append("updatedExisting", true));
        assertThat(WireFindAndModify.reply(new FindAndModifyResult(null, 1, false, "new-id", List.of("s1")), false))
            .isEqualTo(new Document("lastErrorObject", new Document("n", 1).append("updatedExisting", false).append("upserted", "new-id"))
                .append("value", null).append("ok", 1.0));
        assertThat(WireFindAndModify.reply(FindAndModifyResult.none(List.of()), false).get("lastErrorObject"))
            .isEqualTo(new Document("n", 0).append("updatedExisting", false));
    }
}
