package io.shardline.bench;

import java.util.Map;

/** The most connections a router held open to each of its shards while a load ran, next to each pool's maximum. */
final class PoolHighWater {

    private PoolHighWater() {
    }

    /**
     * Runs a load and appends the most connections the router held open to each shard meanwhile (sampled every 20 ms
     * from {@code shard_connection_count}) next to its pool's maximum ({@code shard_connection_max}).
     */
    static String during(io.micrometer.core.instrument.MeterRegistry registry, java.util.Set<String> shards,
                         java.util.concurrent.Callable<String> load) throws Exception {
        Map<String, Double> highest = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicBoolean sampling = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread sampler = new Thread(() -> {
            while (sampling.get()) {
                for (String shard : shards) {
                    io.micrometer.core.instrument.Gauge open = registry.find("shard.connection.count").tag("shard", shard).gauge();
                    if (open != null) {
                        highest.merge(shard, open.value(), Math::max);
                    }
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "bench-pool-sampler");
        sampler.start();
        String result;
        try {
            result = load.call();
        } finally {
            sampling.set(false);
            sampler.join();
        }
        StringBuilder pools = new StringBuilder();
        for (String shard : new java.util.TreeSet<>(shards)) {
            io.micrometer.core.instrument.Gauge max = registry.find("shard.connection.max").tag("shard", shard).gauge();
            pools.append(pools.length() == 0 ? "" : ", ").append(String.format("%s %.0f of %.0f", shard, highest.getOrDefault(shard, 0.0),
                max == null ? Double.NaN : max.value()));
        }
        return result + "; the router's most open connections to each shard meanwhile, of its pool: " + pools;
    }
}
