package io.shardline.core.standby;

/**
 * Where a shard's standby keeps how far it got: the standby sink writes it ({@code StandbyProgress} in the standby
 * module), and a router that acknowledges writes only once the standby has them reads it. One document per namespace
 * in {@value #DATABASE}.{@value #COLLECTION}, {@code _id} the namespace, {@value #CLUSTER_TIME} the shard's cluster time
 * of the latest change of it the standby has dealt with, as a {@code BsonTimestamp}'s value (seconds in the high 32
 * bits, the increment in the low ones). The CDC connectors leave the database out.
 */
public final class StandbyProgressLayout {

    /** The database on the standby, one the CDC connectors do not capture. */
    public static final String DATABASE = "shardline";
    /** The collection of per-namespace progress documents. */
    public static final String COLLECTION = "standby";
    /** The field holding the latest cluster time dealt with, a long. */
    public static final String CLUSTER_TIME = "clusterTime";
    /**
     * The cluster times (longs) of the namespace's changes the standby refused (sent to the dead-letter topic): dealt
     * with, so {@value #CLUSTER_TIME} passes them, but not held.
     */
    public static final String REFUSED_CLUSTER_TIMES = "refusedClusterTimes";

    private StandbyProgressLayout() {
    }
}
