package io.shardline.router.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardline.router.ShardRouter;
import io.shardline.router.api.Scope;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.parsetools.RecordParser;

/**
 * The router over the MongoDB wire protocol, so that MongoDB drivers and tools connect to the sharded cluster as to
 * mongos. Vert.x reads the frames on its event loops; each command runs on a thread of the command pool (the router
 * blocks on shards), one command per connection at a time, replies in order.
 */
public final class WireServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(WireServer.class);
    private static final int HEADER_BYTES = 16;
    private static final String LOOPBACK = "127.0.0.1";

    /** The server's certificate chain and private key, PEM files, for TLS on the port. */
    public record Tls(java.nio.file.Path certificate, java.nio.file.Path key) {

        public Tls {
            java.util.Objects.requireNonNull(certificate, "certificate");
            java.util.Objects.requireNonNull(key, "key");
        }
    }

    /**
     * Settings of a wire server.
     *
     * @param host              the interface to listen on when there are users; without users the server listens on the
     *                          loopback interface whatever this says
     * @param port              port to listen on, 0 for a free one
     * @param cursorIdleTimeout how long a cursor no client reads from stays open
     * @param commandThreads    threads that run commands against the shards: the number of commands in progress at
     *                          once, across all connections
     * @param users             who may connect (SCRAM-SHA-256); none: no authentication, loopback only
     * @param tls               the port's certificate and key, {@code null} for plain TCP
     */
    public record Settings(String host, int port, Duration cursorIdleTimeout, int commandThreads, WireUsers users, Tls tls) {

        public Settings {
            java.util.Objects.requireNonNull(host, "host");
            java.util.Objects.requireNonNull(users, "users");
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("mongo port must be between 0 and 65535, was " + port);
            }
            if (cursorIdleTimeout == null || cursorIdleTimeout.isNegative() || cursorIdleTimeout.isZero()) {
                throw new IllegalArgumentException("cursor idle timeout must be positive, was " + cursorIdleTimeout);
            }
            if (commandThreads < 1) {
                throw new IllegalArgumentException("command threads must be at least 1, was " + commandThreads);
            }
        }

        public static Settings defaults(int port) {
            return new Settings(LOOPBACK, port, Duration.ofMinutes(10), 64, WireUsers.none(), null);
        }

        public Settings withCursorIdleTimeout(Duration timeout) {
            return new Settings(host, port, timeout, commandThreads, users, tls);
        }

        public Settings withUsers(WireUsers given, String listenOn) {
            return new Settings(listenOn, port, cursorIdleTimeout, commandThreads, given, tls);
        }

        public Settings withTls(Tls given) {
            return new Settings(host, port, cursorIdleTimeout, commandThreads, users, given);
        }
    }

    private final Vertx vertx;
    private final NetServer server;
    private final ExecutorService executor;
    private final WireCursors cursors;
    private final long reaper;
    private final String host;

    private WireServer(Vertx vertx, NetServer server, ExecutorService executor, WireCursors cursors, long reaper, String host) {
        this.host = host;
        this.vertx = vertx;
        this.server = server;
        this.executor = executor;
        this.cursors = cursors;
        this.reaper = reaper;
    }

    /**
     * Starts serving {@code router}: on the settings' interface when there are users to authenticate, else on the
     * loopback interface only, since an unauthenticated port must not be reachable from other hosts.
     */
    public static WireServer start(ShardRouter router, Settings settings) throws Exception {
        String host = settings.users().isEmpty() ? LOOPBACK : settings.host();
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
        AtomicInteger threads = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(settings.commandThreads(), settings.commandThreads(), 60, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), task -> {
                Thread thread = new Thread(task, "wire-command-" + threads.incrementAndGet());
                thread.setDaemon(true);
                return thread;
            });
        executor.allowCoreThreadTimeOut(true);
        WireCursors cursors = new WireCursors(settings.cursorIdleTimeout());
        WireServerStats stats = new WireServerStats(host);
        RetryableWrites retryable = new RetryableWrites(Duration.ofMinutes(WireCommands.LOGICAL_SESSION_TIMEOUT_MINUTES));
        WireCommands commands = new WireCommands(router, cursors, stats, retryable, settings.users());
        java.util.Map<String, Timer> timers = new java.util.concurrent.ConcurrentHashMap<>();
        MeterRegistry registry = router.meterRegistry();
        Gauge.builder("shardline.wire.connections", stats, WireServerStats::currentConnections)
            .description("client connections open on the wire router").register(registry);
        Gauge.builder("shardline.wire.cursors", cursors, WireCursors::size)
            .description("cursors the wire router holds open").register(registry);
        Gauge.builder("shardline.wire.sessions", retryable, RetryableWrites::size)
            .description("sessions whose latest retryable write the wire router remembers").register(registry);
        try {
            NetServerOptions options = new NetServerOptions().setHost(host).setPort(settings.port()).setTcpNoDelay(true).setAcceptBacklog(16_384);
            if (settings.tls() != null) {
                options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions().setCertPath(settings.tls().certificate().toString())
                    .setKeyPath(settings.tls().key().toString()));
            }
            NetServer server = vertx.createNetServer(options)
                .connectHandler(socket -> new Connection(socket, commands, executor, stats, registry, timers).start())
                .listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            long reaper = vertx.setPeriodic(1_000, id -> executor.execute(() -> {
                int closed = cursors.closeIdle();
                if (closed > 0) {
                    LOG.info("closed {} cursors idle for longer than {}", closed, settings.cursorIdleTimeout());
                }
                retryable.expire();
            }));
            if (settings.users().isEmpty()) {
                LOG.info("wire router listening on mongodb://{}:{}/{} (loopback only: no users are configured, so no authentication)", host,
                    server.actualPort(), settings.tls() == null ? "" : " with TLS");
            } else {
                LOG.info("wire router listening on mongodb://{}:{}/{} (SCRAM-SHA-256)", host, server.actualPort(),
                    settings.tls() == null ? "" : " with TLS");
            }
            return new WireServer(vertx, server, executor, cursors, reaper, host);
        } catch (Exception e) {
            executor.shutdownNow();
            vertx.close();
            throw e;
        }
    }

    public int port() {
        return server.actualPort();
    }

    /** The connection string a MongoDB client on this host uses (credentials and TLS options are the client's to add). */
    public String uri() {
        String reachable = host.equals("0.0.0.0") ? LOOPBACK : host;
        return "mongodb://" + reachable + ":" + port() + "/";
    }

    /** One client connection: frames in, one command at a time, replies out in order. */
    private static final class Connection {
        private final NetSocket socket;
        private final WireCommands commands;
        private final ExecutorService executor;
        private final WireServerStats stats;
        private final MeterRegistry registry;
        private final java.util.Map<String, Timer> timers;
        private final Context context;
        private final RecordParser parser;
        private WireSession session;
        private boolean readingLength = true;

        Connection(NetSocket socket, WireCommands commands, ExecutorService executor, WireServerStats stats, MeterRegistry registry,
                   java.util.Map<String, Timer> timers) {
            this.socket = socket;
            this.commands = commands;
            this.executor = executor;
            this.stats = stats;
            this.registry = registry;
            this.timers = timers;
            this.context = Vertx.currentContext();
            this.parser = RecordParser.newFixed(4, socket);
        }

        void start() {
            session = new WireSession(stats.opened(), String.valueOf(socket.remoteAddress()), Scope.service());
            socket.closeHandler(ignored -> stats.closed());
            socket.exceptionHandler(e -> LOG.debug("connection {}: {}", session.connectionId(), e.getMessage()));
            parser.exceptionHandler(e -> LOG.debug("connection {}: {}", session.connectionId(), e.getMessage()));
            parser.handler(this::frame);
        }

        private void frame(Buffer buffer) {
            if (readingLength) {
                int length = buffer.getIntLE(0);
                if (length < HEADER_BYTES || length > WireCodec.MAX_MESSAGE_BYTES) {
                    LOG.warn("connection {} from {}: message length {} is outside [{}, {}]; closing it", session.connectionId(),
                        session.peer(), length, HEADER_BYTES, WireCodec.MAX_MESSAGE_BYTES);
                    socket.close();
                    return;
                }
                readingLength = false;
                parser.fixedSizeMode(length - 4);
                return;
            }
            readingLength = true;
            parser.fixedSizeMode(4);
            parser.pause();
            byte[] message = buffer.getBytes();
            executor.execute(() -> {
                Reply reply = handle(message);
                context.runOnContext(ignored -> {
                    if (reply.bytes() != null) {
                        socket.write(Buffer.buffer(reply.bytes()));
                    }
                    if (reply.close()) {
                        socket.close();
                    } else {
                        parser.resume();
                    }
                });
            });
        }

        /** What goes back: a reply (none for a {@code moreToCome} request), and whether to close the connection. */
        private record Reply(byte[] bytes, boolean close) {
        }

        private Reply handle(byte[] bytes) {
            WireMessage message;
            try {
                message = WireCodec.decode(bytes);
            } catch (WireProtocolException e) {
                LOG.warn("connection {} from {}: {}; closing it", session.connectionId(), session.peer(), e.getMessage());
                ByteBuffer header = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
                int requestId = bytes.length >= 4 ? header.getInt(0) : 0;
                boolean legacy = bytes.length >= 12 && header.getInt(8) == WireCodec.OP_QUERY;
                Document error = WireError.of(WireError.FAILED_TO_PARSE, e.getMessage()).toReply();
                return new Reply(WireCodec.encodeReply(requestId, legacy, error), true);
            }
            String name = message.commandName();
            long start = System.nanoTime();
            Document answer;
            String outcome = "ok";
            try {
                answer = commands.run(session, message);
            } catch (RuntimeException e) {
                WireError error = WireError.of(e, WireCommands.isWrite(name));
                if (error.code() == WireError.INTERNAL_ERROR) {
                    LOG.error("connection {}: command {} failed", session.connectionId(), name, e);
                }
                answer = error.toReply();
                outcome = error.codeName();
            }
            timers.computeIfAbsent((commands.knows(name) ? name : "unknown") + "|" + outcome, key -> Timer.builder("shardline.wire.commands")
                    .description("commands the wire router ran, by command and outcome")
                    .tag("command", key.substring(0, key.indexOf('|'))).tag("outcome", key.substring(key.indexOf('|') + 1)).register(registry))
                .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            if (message.moreToCome()) {
                return new Reply(null, false);
            }
            return new Reply(WireCodec.encodeReply(message.requestId(), message.legacy(), answer), false);
        }
    }

    @Override
    public void close() throws Exception {
        vertx.cancelTimer(reaper);
        server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        cursors.close();
        executor.shutdownNow();
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
