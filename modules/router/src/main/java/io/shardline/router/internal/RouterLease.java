package io.shardline.router.internal;

/**
 * The router's lease as its writes check it ({@link RouterSignals} holds it): a write is sent only while the lease runs,
 * and acknowledged only when the lease ran without a break from before it was sent until it was answered.
 */
public interface RouterLease {

    /** Whether the lease runs now. */
    boolean leaseValid();

    /** How many times the lease was found run out so far: a change between two reads means it broke in between. */
    long leaseLapses();

    /** A lease that always runs, for a write path used without a cluster to answer to. */
    RouterLease ALWAYS = new RouterLease() {
        @Override
        public boolean leaseValid() {
            return true;
        }

        @Override
        public long leaseLapses() {
            return 0;
        }
    };
}
