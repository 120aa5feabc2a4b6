package io.shardline.worker.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Updates;

/** The bounded comparison the fenced verification uses, on two real embedded shards. */
class RangeOpsIT {

    private static TwoShards shards;

    @BeforeAll
    static void start() {
        shards = new TwoShards("range-ops");
    }

    @AfterAll
    static void stop() {
        shards.close();
    }

    private static MongoCollection<RawBsonDocument> collection(MongoClient client, String name) {
        return client.getDatabase("rangeops").getCollection(name, RawBsonDocument.class);
    }

    /** The same 2,000 documents on both sides, keys 0000..1999 as hex-ish strings, range [0000, 2000). */
    private static RangeOps copied(String name, List<BsonValue> ids) {
        MongoCollection<RawBsonDocument> from = collection(shards.source, name);
        MongoCollection<RawBsonDocument> to = collection(shards.target, name);
        List<RawBsonDocument> documents = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            BsonDocument document = new BsonDocument("_id", new BsonString(name + "-" + i))
                .append(RangeOps.KEY_FIELD, new BsonString(String.format("%04d", i))).append("v", new BsonInt32(i));
            documents.add(RawBsonDocument.parse(document.toJson()));
            ids.add(document.get("_id"));
        }
        from.insertMany(documents);
        to.insertMany(documents);
        return new RangeOps(from, to, "0000", "2000");
    }

    @Test
    void shouldFindBothSidesAlikeOrTellADifferenceBatchByBatch() {
        List<BsonValue> ids = new ArrayList<>();
        RangeOps ops = copied("compared", ids);
        long later = System.currentTimeMillis() + 60_000;

        assertThat(ops.sameOnBothSides(ids, 100, later)).isEqualTo(RangeOps.Agreement.SAME);

        collection(shards.target, "compared").updateOne(Filters.eq("_id", "compared-1999"), Updates.set("v", -1));
        assertThat(ops.sameOnBothSides(ids, 100, later)).as("a difference in the last batch").isEqualTo(RangeOps.Agreement.DIFFERENT);
        assertThat(ops.sameOnBothSides(ids.subList(0, 1_999), 100, later)).as("ids not asked about are not compared")
            .isEqualTo(RangeOps.Agreement.SAME);
    }

    @Test
    void shouldStopAtTheDeadlineRatherThanHoldTheFenceLonger() {
        List<BsonValue> ids = new ArrayList<>();
        RangeOps ops = copied("bounded", ids);

        assertThat(ops.sameOnBothSides(ids, 100, System.currentTimeMillis() - 1)).isEqualTo(RangeOps.Agreement.UNFINISHED);
        assertThat(ops.sameOnBothSides(List.of(), 100, System.currentTimeMillis() - 1)).as("nothing to compare")
            .isEqualTo(RangeOps.Agreement.SAME);
    }

    @Test
    void shouldLookUpManyIdsInBatchesWithTheSameAnswerAsOneQuery() {
        List<BsonValue> ids = new ArrayList<>();
        RangeOps ops = copied("looked-up", ids);
        MongoCollection<RawBsonDocument> target = collection(shards.target, "looked-up");
        MongoCollection<RawBsonDocument> source = collection(shards.source, "looked-up");
        for (String id : List.of("looked-up-3", "looked-up-777", "looked-up-1998")) {
            target.updateOne(Filters.eq("_id", id), Updates.set("v", -1));
        }
        target.deleteOne(Filters.eq("_id", "looked-up-1500"));
        assertThat(ids.size()).as("more ids than one lookup takes").isGreaterThan(3 * RangeOps.LOOKUP_BATCH);

        assertThat(ops.differing(ids)).containsExactlyInAnyOrder(new BsonString("looked-up-3"), new BsonString("looked-up-777"),
            new BsonString("looked-up-1998"), new BsonString("looked-up-1500"));

        source.updateOne(Filters.eq("_id", "looked-up-1999"), Updates.set(RangeOps.KEY_FIELD, "9999")); // leaves the range
        assertThat(ops.sync(ids)).as("a write or removal per id").isEqualTo(2_000);
        assertThat(ops.differing(ids)).isEmpty();
        assertThat(target.countDocuments()).as("the document that left the range is gone from the target").isEqualTo(1_999);
    }
}
