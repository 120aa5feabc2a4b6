package io.shardline.core.key;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

class KeyHexTest {

    @Test
    void writesTheRemainingBytesInLowercaseWithoutMovingTheBuffer() {
        ByteBuffer buffer = ByteBuffer.wrap(new byte[] {0x01, (byte) 0xAB, 0x7f});
        buffer.get();
        assertThat(KeyHex.of(buffer)).isEqualTo("ab7f");
        assertThat(buffer.position()).isEqualTo(1);
    }

    @Test
    void theSmallestKeyIsEmptyAndNoBoundIsNull() {
        assertThat(KeyHex.of(ByteBuffer.allocate(0))).isEmpty();
        assertThat(KeyHex.bytes("").remaining()).isZero();
        assertThat(KeyHex.of(null)).isNull();
        assertThat(KeyHex.bytes(null)).isNull();
    }

    @Test
    void readsBackWhatItWrote() {
        ShardKey key = ShardKey.ofBytes(new byte[] {0x02, 0x61, 0x64, 0x61, 0x00, (byte) 0x80});
        assertThat(KeyHex.bytes(key.toHex())).isEqualTo(ByteBuffer.wrap(key.toBytes()));
        assertThat(KeyHex.of(KeyHex.bytes("00ff10"))).isEqualTo("00ff10");
        assertThat(KeyHex.bytes("00FF10")).isEqualTo(ByteBuffer.wrap(new byte[] {0x00, (byte) 0xff, 0x10}));
    }

    @Test
    void refusesWhatIsNotHex() {
        assertThatThrownBy(() -> KeyHex.bytes("abc")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KeyHex.bytes("zz")).isInstanceOf(IllegalArgumentException.class);
    }
}
