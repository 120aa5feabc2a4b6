package io.shardline.core.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.junit.jupiter.api.Test;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;

class RangeReleaseTest {

    @Test
    void shouldReadBackWhatItWritesForBoundedAndUnboundedRanges() {
        RangeRelease bounded = new RangeRelease("auth.users", new KeyRange(ShardKey.ofHex("0a"), ShardKey.ofHex("0b")), "s2", "m-1", 42);
        RangeRelease upper = new RangeRelease("auth.users", new KeyRange(ShardKey.ofHex("0b"), null), "s3", "m-2", 43);

        assertThat(RangeRelease.fromDocument(bounded.toDocument())).isEqualTo(bounded);
        assertThat(RangeRelease.fromDocument(upper.toDocument())).isEqualTo(upper);
        assertThat(bounded.toDocument().getString("_id").getValue()).as("one record per migration").isEqualTo("m-1");
    }

    @Test
    void shouldNameTheFieldOfAnUnreadableRecord() {
        BsonDocument valid = new RangeRelease("auth.users", KeyRange.ALL, "s2", "m-1", 7).toDocument();

        assertThatThrownBy(() -> RangeRelease.fromDocument(valid.clone().append("routingVersion", new BsonString("7"))))
            .hasMessageStartingWith("routingVersion:");
        assertThatThrownBy(() -> RangeRelease.fromDocument(valid.clone().append("max", new BsonInt32(3))))
            .hasMessageStartingWith("max:");
        BsonDocument noNamespace = valid.clone();
        noNamespace.remove("ns");
        assertThatThrownBy(() -> RangeRelease.fromDocument(noNamespace)).hasMessageStartingWith("ns:");
    }

    @Test
    void shouldAskForTheReleasesOfOneNamespaceNewerThanAVersion() {
        BsonDocument query = RangeRelease.newerThan("auth.sessions", 12);

        assertThat(query.getString("ns").getValue()).isEqualTo("auth.sessions");
        assertThat(query.getDocument("routingVersion").getInt64("$gt").getValue()).isEqualTo(12);
    }
}
