package io.shardline.core.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;

class ChunkTest {

    @Test
    void shouldReadARoutingRecordWithoutMovingItsBuffers() {
        ByteBuffer min = ByteBuffer.wrap(new byte[] {0x0a});
        ChunkRoute route = ChunkRoute.newBuilder().setNamespace("auth.users").setMin(min).setMax(null).setShardId("s2").setEpoch(1)
            .setVersion(7).setState(ChunkState.MIGRATING).setMigrationId("m-1").build();

        Chunk chunk = Chunk.of(route);

        assertThat(chunk).isEqualTo(new Chunk("auth.users", new KeyRange(ShardKey.ofHex("0a"), null), "s2", 1, 7, ChunkState.MIGRATING, "m-1"));
        assertThat(min.remaining()).as("the record's buffer is left as it was").isEqualTo(1);
        assertThat(KeyRange.ofEncoded(ByteBuffer.allocate(0), ByteBuffer.wrap(new byte[] {0x0b})))
            .isEqualTo(new KeyRange(ShardKey.MIN, ShardKey.ofHex("0b")));
    }

    @Test
    void shouldWriteTheRoutingRecordItWasReadFrom() {
        Chunk bounded = new Chunk("auth.users", new KeyRange(ShardKey.ofHex("0a"), ShardKey.ofHex("0b")), "s2", 3, 9, ChunkState.FENCED, "m-2");
        Chunk unbounded = Chunk.active("auth.users", KeyRange.ALL, "s1", 1, 1);

        assertThat(Chunk.of(bounded.toRoute())).isEqualTo(bounded);
        assertThat(Chunk.of(unbounded.toRoute())).isEqualTo(unbounded);
        assertThat(unbounded.toRoute().getMax()).isNull();
    }
}
