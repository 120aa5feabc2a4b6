package io.shardline.router.wire;

import static org.assertj.core.api.Assertions.assertThat;

import org.bson.Document;
import org.junit.jupiter.api.Test;

/** How index administration reads key patterns: which name the shard-key field, which are the same index. */
class WireAdminCommandsTest {

    @Test
    void aKeyNamesTheShardKeyFieldByItsNameOrAPathUnderIt() {
        assertThat(WireAdminCommands.namesShardKeyField(new Document("_sk", 1))).isTrue();
        assertThat(WireAdminCommands.namesShardKeyField(new Document("tenantId", 1).append("_sk.x", -1))).isTrue();
        assertThat(WireAdminCommands.namesShardKeyField(new Document("_skip", 1))).isFalse();
        assertThat(WireAdminCommands.namesShardKeyField(new Document("a._sk", 1))).isFalse();
    }

    @Test
    void keysAreTheSameWithTheSameFieldsInOrderAndDirectionsEqualAsNumbers() {
        assertThat(WireAdminCommands.sameKey(new Document("a", 1).append("b", -1), new Document("a", 1.0).append("b", -1L))).isTrue();
        assertThat(WireAdminCommands.sameKey(new Document("a", 1).append("b", -1), new Document("b", -1).append("a", 1))).isFalse();
        assertThat(WireAdminCommands.sameKey(new Document("a", 1), new Document("a", -1))).isFalse();
        assertThat(WireAdminCommands.sameKey(new Document("a", "hashed"), new Document("a", "hashed"))).isTrue();
        assertThat(WireAdminCommands.sameKey(new Document("a", "hashed"), new Document("a", 1))).isFalse();
        assertThat(WireAdminCommands.sameKey(new Document("a", 1), new Document("a", 1).append("b", 1))).isFalse();
    }
}
