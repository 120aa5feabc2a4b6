package io.shardline.shard.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.MessageToByteEncoder;

class ReplyWriteGuardTest {

    /** An encoder that cannot encode "broken" replies, as one that meets a value it does not know. */
    private static final class PickyEncoder extends MessageToByteEncoder<String> {
        @Override
        protected void encode(ChannelHandlerContext ctx, String reply, ByteBuf out) {
            if (reply.equals("broken")) {
                throw new IllegalArgumentException("cannot encode " + reply);
            }
            out.writeBytes(reply.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    @Test
    void shouldCloseTheConnectionWhenAReplyCannotBeWritten() {
        EmbeddedChannel channel = new EmbeddedChannel(new PickyEncoder(), new ShardServer.ReplyWriteGuard());

        channel.writeAndFlush("fine");
        assertThat(channel.isOpen()).isTrue();
        ByteBuf written = channel.readOutbound();
        assertThat(written.readableBytes()).isEqualTo(4);
        written.release();

        channel.writeAndFlush("broken");
        channel.runPendingTasks();
        assertThat(channel.isOpen()).as("the client sees the connection close instead of waiting for the reply").isFalse();
    }
}
