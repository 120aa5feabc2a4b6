package io.shardline.bench;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.bson.BsonBinaryReader;
import org.bson.BsonBinaryWriter;
import org.bson.Document;
import org.bson.codecs.DecoderContext;
import org.bson.codecs.DocumentCodec;
import org.bson.codecs.EncoderContext;
import org.bson.io.BasicOutputBuffer;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;

/**
 * Opens {@code connections} MongoDB wire-protocol connections to a router at once, each sending one find by shard key
 * as an {@code OP_MSG} (encoded with the driver's BSON codec) and keeping its connection open until every one has its
 * reply, then prints one line: errors, throughput, p99 and max latency. Run by {@link RouterBench} in its own JVM.
 */
public final class WireLoad {

    private WireLoad() {
    }

    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        int connections = Integer.parseInt(args[1]);
        int documents = Integer.parseInt(args[2]);
        Vertx vertx = Vertx.vertx();
        try {
            NetClient client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(120_000).setTcpNoDelay(true));
            AtomicInteger errors = new AtomicInteger();
            AtomicLong maxNanos = new AtomicLong();
            Latencies latencies = new Latencies(connections);
            CountDownLatch done = new CountDownLatch(connections);
            List<NetSocket> open = new java.util.concurrent.CopyOnWriteArrayList<>();
            long start = System.nanoTime();
            for (int i = 0; i < connections; i++) {
                byte[] find = find(i, new Document("find", "users").append("filter", new Document("tenantId", "acme")
                    .append("_id", "u" + (i % documents))).append("limit", 1).append("singleBatch", true).append("$db", "bench"));
                long sent = System.nanoTime();
                client.connect(uri.getPort(), uri.getHost()).onComplete(connected -> {
                    if (connected.failed()) {
                        finish(sent, false, errors, maxNanos, latencies, done);
                        return;
                    }
                    NetSocket socket = connected.result();
                    open.add(socket);
                    RecordParser parser = RecordParser.newFixed(4);
                    boolean[] header = {true};
                    parser.handler(frame -> {
                        if (header[0]) {
                            header[0] = false;
                            parser.fixedSizeMode(frame.getIntLE(0) - 4);
                        } else {
                            finish(sent, ok(frame), errors, maxNanos, latencies, done);
                        }
                    });
                    socket.handler(parser);
                    socket.write(Buffer.buffer(find));
                });
            }
            if (!done.await(10, TimeUnit.MINUTES)) {
                System.out.println("concurrent wire: not finished within 10 minutes");
                return;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("%d concurrent wire-protocol connections (client in its own JVM, all open at once), one find each: errors=%d"
                + " throughput=%.0f req/s p99=%.0fms max=%.0fms%n", connections, errors.get(), connections / seconds,
                latencies.percentileMicros(99) / 1_000, maxNanos.get() / 1e6);
            open.forEach(NetSocket::close);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    private static void finish(long sent, boolean ok, AtomicInteger errors, AtomicLong maxNanos, Latencies latencies, CountDownLatch done) {
        long elapsed = System.nanoTime() - sent;
        synchronized (latencies) {
            latencies.add(elapsed);
        }
        maxNanos.accumulateAndGet(elapsed, Math::max);
        if (!ok) {
            errors.incrementAndGet();
        }
        done.countDown();
    }

    /** An {@code OP_MSG} carrying {@code command}. */
    private static byte[] find(int requestId, Document command) {
        BasicOutputBuffer out = new BasicOutputBuffer();
        out.writeInt32(0);
        out.writeInt32(requestId);
        out.writeInt32(0);
        out.writeInt32(2013);
        out.writeInt32(0);
        out.writeByte(0);
        new DocumentCodec().encode(new BsonBinaryWriter(out), command, EncoderContext.builder().build());
        out.writeInt32(0, out.getPosition());
        return out.toByteArray();
    }

    /** Whether a reply (after its length) says {@code ok: 1}. */
    private static boolean ok(Buffer reply) {
        // requestID, responseTo, opCode (12), flagBits (4), section kind (1), then the body
        ByteBuffer body = ByteBuffer.wrap(reply.getBytes(), 17, reply.length() - 17).slice().order(ByteOrder.LITTLE_ENDIAN);
        Document document = new DocumentCodec().decode(new BsonBinaryReader(body), DecoderContext.builder().build());
        return document.get("ok") instanceof Number ok && ok.doubleValue() == 1.0;
    }
}
