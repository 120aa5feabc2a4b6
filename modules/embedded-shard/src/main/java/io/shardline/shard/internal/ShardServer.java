package io.shardline.shard.internal;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import de.bwaldvogel.mongo.wire.MongoDatabaseHandler;
import de.bwaldvogel.mongo.wire.MongoExceptionHandler;
import de.bwaldvogel.mongo.wire.MongoWireMessageEncoder;
import de.bwaldvogel.mongo.wire.MongoWireProtocolHandler;
import de.bwaldvogel.mongo.wire.MongoWireReplyEncoder;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutorGroup;

/**
 * The wire server of an embedded shard. It differs from mongo-java-server's own {@code MongoServer} in one
 * way: commands run on a separate executor group instead of the I/O event loop, because a change-stream
 * {@code getMore} waits for events (as MongoDB's does) and must not stall the other connections of its loop.
 * The group pins each connection to one of its threads, so a connection that waits for change events is moved to a
 * thread of its own the first time it asks for them ({@link ChangeStreamSeparator}): otherwise every connection
 * pinned to the same thread would queue behind each wait, up to its await time per command.
 */
public final class ShardServer {

    private static final String DATABASE_HANDLER = "database";
    private static final String EXCEPTION_HANDLER = "exceptions";

    private final ShardBackend backend;
    private final EventLoopGroup bossGroup = new NioEventLoopGroup(1, new DefaultThreadFactory("shard-boss", true));
    private final EventLoopGroup ioGroup = new NioEventLoopGroup(2, new DefaultThreadFactory("shard-io", true));
    private final EventExecutorGroup handlerGroup;
    private final ChannelGroup channels;
    private Channel serverChannel;

    /**
     * Threads serving the commands of ordinary connections, each connection pinned to one: a command that takes long
     * (a large scan) holds up the connections that share its thread, so there are far more than cores.
     */
    private static final int HANDLER_THREADS = 64;

    public ShardServer(ShardBackend backend) {
        this.backend = backend;
        this.handlerGroup = new DefaultEventExecutorGroup(HANDLER_THREADS, new DefaultThreadFactory("shard-handler", true));
        this.channels = new DefaultChannelGroup("shard-channels", ioGroup.next());
    }

    public InetSocketAddress bind(String host, int port) {
        ServerBootstrap bootstrap = new ServerBootstrap()
            .group(bossGroup, ioGroup)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 128)
            .localAddress(host, port)
            .childOption(ChannelOption.TCP_NODELAY, Boolean.TRUE)
            .childHandler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(new MongoWireReplyEncoder());
                    ch.pipeline().addLast(new MongoWireMessageEncoder());
                    ch.pipeline().addLast(new MongoWireProtocolHandler());
                    ch.pipeline().addLast(new ReplyWriteGuard());
                    ch.pipeline().addLast(new ChangeStreamSeparator(backend, channels));
                    ch.pipeline().addLast(handlerGroup, DATABASE_HANDLER, new MongoDatabaseHandler(backend, channels));
                    ch.pipeline().addLast(handlerGroup, EXCEPTION_HANDLER, new MongoExceptionHandler());
                }
            });
        try {
            serverChannel = bootstrap.bind().syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            shutdown();
            throw e;
        }
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** How long each event-loop group must have been idle before it stops. */
    private static final long QUIET_MILLIS = 50;

    public void shutdown() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
        channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        // All groups at once, each with a quiet period: the teardown of a connection closed just before hands work from
        // the I/O loops to the handler group and back, and a group accepts work until it has been quiet that long.
        var boss = bossGroup.shutdownGracefully(QUIET_MILLIS, 2_000, TimeUnit.MILLISECONDS);
        var io = ioGroup.shutdownGracefully(QUIET_MILLIS, 2_000, TimeUnit.MILLISECONDS);
        var handlers = handlerGroup.shutdownGracefully(QUIET_MILLIS, 2_000, TimeUnit.MILLISECONDS);
        boss.syncUninterruptibly();
        io.syncUninterruptibly();
        handlers.syncUninterruptibly();
    }

    /**
     * Closes a connection whose reply could not be written (mongo-java-server writes its replies without looking at
     * the outcome, so a reply its encoder fails on would otherwise vanish): the client then gets an error at once
     * instead of waiting for a reply that never comes, and the log says why.
     */
    static final class ReplyWriteGuard extends ChannelOutboundHandlerAdapter {

        private static final Logger LOG = LoggerFactory.getLogger(ReplyWriteGuard.class);

        @Override
        public void write(ChannelHandlerContext ctx, Object message, ChannelPromise promise) {
            if (!promise.isVoid()) {
                promise.addListener(written -> {
                    if (!written.isSuccess() && ctx.channel().isOpen()) {
                        LOG.error("connection from {}: a reply could not be written; closing the connection", ctx.channel().remoteAddress(),
                            written.cause());
                        ctx.channel().close();
                    }
                });
            }
            ctx.write(message, promise);
        }
    }

    /**
     * Runs on the I/O loop before the command handler: when a connection first sends a command that may wait for
     * change events, its command handler is replaced by one on a single thread of its own, which ends with the
     * connection. A client sends its next command on a connection only once the reply to the last one came, so no
     * command of the connection is still queued on the old thread when the handler moves.
     */
    static final class ChangeStreamSeparator extends ChannelInboundHandlerAdapter {

        private static final Logger LOG = LoggerFactory.getLogger(ChangeStreamSeparator.class);

        private final ShardBackend backend;
        private final ChannelGroup channels;
        private boolean separated;

        ChangeStreamSeparator(ShardBackend backend, ChannelGroup channels) {
            this.backend = backend;
            this.channels = channels;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            if (!separated && message instanceof MongoMessage command && backend.waitsForChanges(command.getDocument())) {
                separated = true;
                EventExecutor own = new DefaultEventExecutor(new DefaultThreadFactory("shard-stream", true));
                ctx.pipeline().remove(DATABASE_HANDLER);
                ctx.pipeline().addBefore(own, EXCEPTION_HANDLER, DATABASE_HANDLER, new StreamDatabaseHandler(backend, channels, own));
                LOG.debug("connection {} waits for change events: its commands run on a thread of their own", ctx.channel());
            }
            ctx.fireChannelRead(message);
        }
    }

    /**
     * The command handler of a connection on a thread of its own. The thread is stopped once the handler is removed
     * from the pipeline, the last thing the pipeline runs on it when the connection is torn down: stopped any earlier
     * (when the connection closes), the pipeline's teardown would hand work to a stopped thread from a thread of the
     * shared group, and the exception would end that shared thread with it.
     */
    private static final class StreamDatabaseHandler extends MongoDatabaseHandler {

        private final EventExecutor own;

        StreamDatabaseHandler(ShardBackend backend, ChannelGroup channels, EventExecutor own) {
            super(backend, channels);
            this.own = own;
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) throws Exception {
            try {
                super.handlerRemoved(ctx);
            } finally {
                own.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            }
        }
    }
}
