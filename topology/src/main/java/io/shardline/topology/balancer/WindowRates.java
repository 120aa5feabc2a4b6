package io.shardline.topology.balancer;

/** Reads and writes per second of a closed window. */
record WindowRates(double reads, double writes) {

    /**
     * Writes are what routers reported or what the CDC write counter grew by, whichever is more (writes that bypass the
     * routers load the shard too); a counter seen for the first time ({@code lastCdcWrites < 0}) only sets the baseline.
     */
    static WindowRates of(long windowReads, long windowWrites, long lastCdcWrites, long cdcWrites, long windowMillis) {
        double seconds = windowMillis / 1000.0;
        double cdcRate = lastCdcWrites < 0 ? 0 : Math.max(0, cdcWrites - lastCdcWrites) / seconds;
        return new WindowRates(windowReads / seconds, Math.max(windowWrites / seconds, cdcRate));
    }

    double ops() {
        return reads + writes;
    }
}
