package io.shardline.bench;

import java.net.URI;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;

/**
 * Opens {@code connections} HTTP connections to a router at once, each sending one find by shard key, and prints
 * one line: errors, throughput, p99 and max latency. Run by {@link RouterBench} in its own JVM.
 */
public final class HttpLoad {

    private HttpLoad() {
    }

    public static void main(String[] args) throws Exception {
        URI uri = URI.create(args[0]);
        int connections = Integer.parseInt(args[1]);
        int documents = Integer.parseInt(args[2]);
        Vertx vertx = Vertx.vertx();
        try {
            HttpClient client = vertx.createHttpClient(new HttpClientOptions()
                    .setDefaultHost(uri.getHost()).setDefaultPort(uri.getPort()).setKeepAlive(true).setConnectTimeout(120_000),
                new PoolOptions().setHttp1MaxSize(connections).setMaxWaitQueueSize(-1));
            AtomicInteger errors = new AtomicInteger();
            AtomicLong maxNanos = new AtomicLong();
            Latencies latencies = new Latencies(connections);
            CountDownLatch done = new CountDownLatch(connections);
            long start = System.nanoTime();
            for (int i = 0; i < connections; i++) {
                String body = "{\"filter\": {\"_id\": \"u" + (i % documents) + "\"}}";
                long sent = System.nanoTime();
                client.request(HttpMethod.POST, "/v1/bench/users/find")
                    .compose(request -> request.putHeader("X-Tenant-Id", "acme").send(body))
                    .compose(response -> response.body().map(b -> response.statusCode()))
                    .onComplete(result -> {
                        long elapsed = System.nanoTime() - sent;
                        synchronized (latencies) {
                            latencies.add(elapsed);
                        }
                        maxNanos.accumulateAndGet(elapsed, Math::max);
                        if (result.failed() || result.result() != 200) {
                            errors.incrementAndGet();
                        }
                        done.countDown();
                    });
            }
            if (!done.await(10, TimeUnit.MINUTES)) {
                System.out.println("concurrent HTTP: not finished within 10 minutes");
                return;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("%d concurrent HTTP connections (client in its own JVM), one find each: errors=%d throughput=%.0f req/s p99=%.0fms max=%.0fms%n",
                connections, errors.get(), connections / seconds, latencies.percentileMicros(99) / 1_000, maxNanos.get() / 1e6);
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
