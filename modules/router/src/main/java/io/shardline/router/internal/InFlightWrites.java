package io.shardline.router.internal;

import java.util.TreeMap;

/**
 * Writes in progress, each with the routing version under which it chose its shards. A router acknowledges a routing
 * version only once no write chose its shards under an older one: a fence published at offset {@code o} is
 * acknowledged (version above {@code o}) only after every write that could still go to the old owner has finished.
 * A write that waits for a fenced chunk holds no version while it waits, and takes the current one before it looks
 * again.
 */
public final class InFlightWrites {

    private final RoutingState state;
    private final TreeMap<Long, Integer> byVersion = new TreeMap<>();

    public InFlightWrites(RoutingState state) {
        this.state = state;
    }

    /** Registers a write at the current routing version; take it before reading the routing for the write. */
    public Ticket begin() {
        Ticket ticket = new Ticket();
        ticket.hold(state.version());
        return ticket;
    }

    /** The highest version this router may acknowledge now. */
    public synchronized long acknowledgeable() {
        long applied = state.version();
        return byVersion.isEmpty() ? applied : Math.min(applied, byVersion.firstKey());
    }

    /** Writes in progress. */
    public synchronized int size() {
        return byVersion.values().stream().mapToInt(Integer::intValue).sum();
    }

    private synchronized void add(long version) {
        byVersion.merge(version, 1, Integer::sum);
    }

    private synchronized void remove(long version) {
        byVersion.computeIfPresent(version, (v, count) -> count == 1 ? null : count - 1);
    }

    /** One write's registration. */
    public final class Ticket implements AutoCloseable {
        private long version = -1;

        private void hold(long at) {
            add(at);
            version = at;
        }

        /** Gives up the version while the write waits for a routing change. */
        public void release() {
            if (version >= 0) {
                remove(version);
                version = -1;
            }
        }

        /** Takes the current version again after a wait, before the write reads the routing again. */
        public void renew() {
            release();
            hold(state.version());
        }

        @Override
        public void close() {
            release();
        }
    }
}
