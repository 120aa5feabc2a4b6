package io.shardline.topology.stores;

/**
 * The name of every state store of the controller's Kafka Streams application, in one place: the global tables that
 * both the size topology and the balancer read, the size topology's own stores and the balancer's. Processors are
 * handed these names (or read them from here); interactive queries use them too.
 */
public final class StoreNames {

    // ---------------------------------------------------------------- global tables, shared by both topologies

    /** The routing table (global), to place documents in chunks and to list each shard's chunks. */
    public static final String ROUTES = "chunk-routes";
    /** Namespace configs (global): shard-key strategies and thresholds. */
    public static final String CONFIGS = "namespace-configs";
    /** Shard descriptors (global): states and capacities. */
    public static final String SHARDS = "shard-descriptors";
    /** The key samples (global), for split points. */
    public static final String KEY_SAMPLES = "key-samples";

    // ---------------------------------------------------------------- the size topology

    /** Last known BSON size per (shard, namespace, document). */
    public static final String DOCUMENT_SIZES = "cdc-document-sizes";
    /** Documents and bytes per shard. */
    public static final String SHARD_SIZES = "shard-sizes";
    /** Documents and bytes per chunk. */
    public static final String CHUNK_SIZES = "chunk-sizes";
    /** The key sample of every namespace, and an index of the sampled documents. */
    public static final String KEY_SAMPLER = "key-sampler";
    /** Sample level and size per namespace. */
    public static final String KEY_SAMPLE_LEVELS = "key-sample-levels";

    // ---------------------------------------------------------------- the balancer

    /** Latest size of every shard, from the stats topic. */
    public static final String BALANCER_SHARD_SIZES = "balancer-shard-sizes";
    /** Latest size of every chunk, from the chunk-stats topic. */
    public static final String BALANCER_CHUNK_SIZES = "balancer-chunk-sizes";
    /** Streaks, window load, cooldown and pending command per shard. */
    public static final String BALANCER_SHARD_STATE = "balancer-shard-state";
    /** Window load and unsplittable marks per chunk. */
    public static final String BALANCER_CHUNK_NOTES = "balancer-chunk-notes";
    /** Migrations not yet ended. */
    public static final String BALANCER_MIGRATIONS = "balancer-migrations";
    /** When the last decision window closed. */
    public static final String BALANCER_CLOCK = "balancer-clock";

    private StoreNames() {
    }
}
