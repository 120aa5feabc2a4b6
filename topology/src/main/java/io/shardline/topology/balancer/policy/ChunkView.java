package io.shardline.topology.balancer.policy;

import java.util.Objects;

import io.shardline.schemas.avro.ChunkRoute;

/**
 * One chunk of a shard as the balancer sees it when a window closes.
 *
 * @param route             the chunk's route (namespace, bounds, owner, version)
 * @param key               its routing key, {@code <namespace>|<min hex>}
 * @param minHex            its inclusive lower bound in hex
 * @param maxHex            its exclusive upper bound in hex, {@code null} for +infinity
 * @param documents         documents of the chunk on its owner
 * @param bytes             BSON bytes of the chunk on its owner
 * @param opsPerSec         reads and writes per second of the last window
 * @param knownUnsplittable the chunk was reported as a single key at its current routing version
 * @param loadSplitAtMillis when the chunk was last split by load (from its route or the balancer's own note), or
 *                          {@code null} if never
 */
public record ChunkView(ChunkRoute route, String key, String minHex, String maxHex, long documents, long bytes, double opsPerSec,
                        boolean knownUnsplittable, Long loadSplitAtMillis) {

    public ChunkView {
        Objects.requireNonNull(route, "route");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(minHex, "minHex");
    }

    public String namespace() {
        return route.getNamespace();
    }

    /** True while the chunk is a split by load younger than {@code minAgeMillis}: its halves are still being judged. */
    public boolean youngLoadSplit(long now, long minAgeMillis) {
        return loadSplitAtMillis != null && now - loadSplitAtMillis < minAgeMillis;
    }
}
