package io.shardline.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.bson.BsonTimestamp;
import org.junit.jupiter.api.Test;

/** What a change record tells about the change, read out of Debezium's MongoDB envelope. */
class ChangeRecordTest {

    private static final byte[] KEY = "{\"id\": \"\\\"u1\\\"\"}".getBytes(StandardCharsets.UTF_8);

    @Test
    void shouldReadTheChangesClusterTimeFromTheSourcesSecondsAndOrder() {
        ChangeRecord change = ChangeRecord.of(7, KEY, value("{\"ts_ms\": 1764547200000, \"ord\": 3, \"wallTime\": 1764547200456}"));

        assertThat(new BsonTimestamp(change.clusterTime())).isEqualTo(new BsonTimestamp(1_764_547_200, 3));
        assertThat(change.wallTime()).isEqualTo(1_764_547_200_456L);
        assertThat(change.offset()).isEqualTo(7);
    }

    @Test
    void shouldKnowNoClusterTimeWithoutTheSourcesOrder() {
        assertThat(ChangeRecord.of(0, KEY, value("{\"ts_ms\": 1764547200000}")).clusterTime()).isZero();
    }

    private static byte[] value(String source) {
        return ("{\"op\": \"c\", \"after\": \"{\\\"_id\\\": \\\"u1\\\"}\", \"source\": " + source + "}").getBytes(StandardCharsets.UTF_8);
    }
}
