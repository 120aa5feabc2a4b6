package io.shardline.core.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.schemas.avro.ChunkState;

class RoutingTableTest {

    private static final String NS = "auth.users";
    private static final ShardKey M = KeyEncoding.encode("m");

    @Test
    void shouldKeepServingTheLastConsistentRoutingWhileASplitIsHalfApplied() {
        RoutingTable table = new RoutingTable();
        table.put(Chunk.active(NS, KeyRange.ALL, "s1", 1, 1));

        table.put(Chunk.active(NS, new KeyRange(ShardKey.MIN, M), "s1", 1, 2));

        assertThat(table.pendingViolations()).containsKey(NS);
        assertThat(table.midStep()).containsExactly(NS);
        assertThat(table.chunkFor(NS, KeyEncoding.encode("z")).range()).isEqualTo(KeyRange.ALL);

        table.put(Chunk.active(NS, new KeyRange(M, null), "s2", 1, 2));

        assertThat(table.pendingViolations()).isEmpty();
        assertThat(table.midStep()).isEmpty();
        assertThat(table.chunkFor(NS, KeyEncoding.encode("z")).shardId()).isEqualTo("s2");
        assertThat(table.namespace(NS).orElseThrow().version()).isEqualTo(2);
    }

    @Test
    void shouldIgnoreARecordOlderThanTheOneHeldWhenVersionsArriveOutOfOrder() {
        RoutingTable table = new RoutingTable();
        table.put(new Chunk(NS, KeyRange.ALL, "s2", 1, 5, ChunkState.ACTIVE, null));

        boolean applied = table.put(new Chunk(NS, KeyRange.ALL, "s1", 1, 4, ChunkState.FENCED, "m1"));

        assertThat(applied).isFalse();
        assertThat(table.chunkFor(NS, ShardKey.MIN).shardId()).isEqualTo("s2");
    }
}
