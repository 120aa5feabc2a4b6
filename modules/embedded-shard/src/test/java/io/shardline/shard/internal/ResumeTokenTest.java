package io.shardline.shard.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.MongoServerError;

class ResumeTokenTest {

    @Test
    void shouldCarryTheClusterTimeAfterTheKeyStringTypeByteAsToolsExpect() {
        BsonTimestamp time = new BsonTimestamp((1_795_000_000L << 32) | 7);

        String data = (String) ResumeToken.of(time).get("_data");
        ByteBuffer bytes = ByteBuffer.wrap(HexFormat.of().parseHex(data));

        assertThat(bytes.get() & 0xFF).isEqualTo(130);
        assertThat(bytes.getLong()).isEqualTo(time.getValue());
        assertThat(ResumeToken.clusterTime(ResumeToken.of(time), "resumeAfter")).isEqualTo(time);
    }

    @Test
    void shouldNameTheOptionWhenATokenIsMalformed() {
        assertThatThrownBy(() -> ResumeToken.clusterTime(new Document("_data", "zz"), "startAfter"))
            .isInstanceOf(MongoServerError.class)
            .hasMessageContaining("startAfter");
        assertThatThrownBy(() -> ResumeToken.clusterTime("not a document", "resumeAfter"))
            .hasMessageContaining("resumeAfter");
    }
}
