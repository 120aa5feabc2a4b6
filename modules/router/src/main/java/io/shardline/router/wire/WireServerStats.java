package io.shardline.router.wire;

import java.util.concurrent.atomic.AtomicLong;

/** Connection counts of a wire server, for {@code serverStatus} and the server's gauges. */
final class WireServerStats {

    private final String host;
    private final AtomicLong current = new AtomicLong();
    private final AtomicLong total = new AtomicLong();

    WireServerStats(String host) {
        this.host = host;
    }

    long opened() {
        current.incrementAndGet();
        return total.incrementAndGet();
    }

    void closed() {
        current.decrementAndGet();
    }

    String host() {
        return host;
    }

    long currentConnections() {
        return current.get();
    }

    long totalConnections() {
        return total.get();
    }

    /** The version of the running build, from its jar's manifest ("dev" when run from classes). */
    static String version() {
        String version = WireServerStats.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }
}
