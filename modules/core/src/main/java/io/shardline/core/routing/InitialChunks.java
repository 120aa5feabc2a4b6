package io.shardline.core.routing;

import java.util.ArrayList;
import java.util.List;

import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;

/**
 * The first routing table of a namespace: the key space cut at given boundaries, the pieces dealt to the shards
 * round-robin. The controller refines it from the data later; this only has to be a valid, spread-out start.
 */
public final class InitialChunks {

    private InitialChunks() {
    }

    /**
     * @param boundaries strictly increasing keys where one chunk ends and the next begins
     */
    public static List<Chunk> layout(String namespace, long epoch, List<ShardKey> boundaries, List<String> shardIds) {
        if (shardIds.isEmpty()) {
            throw new IllegalArgumentException("at least one shard is needed to place chunks");
        }
        List<Chunk> chunks = new ArrayList<>();
        ShardKey min = ShardKey.MIN;
        for (int i = 0; i <= boundaries.size(); i++) {
            ShardKey max = i < boundaries.size() ? boundaries.get(i) : null;
            if (max != null && max.compareTo(min) <= 0) {
                throw new IllegalArgumentException("boundaries must be strictly increasing and above MIN; " + max + " is not above " + min);
            }
            chunks.add(Chunk.active(namespace, new KeyRange(min, max), shardIds.get(i % shardIds.size()), epoch, 1));
            min = max;
        }
        return chunks;
    }

    /** {@code count - 1} boundaries that cut the 64-bit hash space of {@code hashed} keys into equal parts. */
    public static List<ShardKey> hashedBoundaries(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be >= 1, was " + count);
        }
        List<ShardKey> boundaries = new ArrayList<>();
        long step = Long.divideUnsigned(-1L, count);
        for (int i = 1; i < count; i++) {
            boundaries.add(KeyEncoding.encode(Long.MIN_VALUE + step * i));
        }
        return boundaries;
    }

    /**
     * {@code count - 1} single-letter boundaries spread over a..z, for keys led by names (tenants): with
     * {@link #valueBoundaries}, {@code count} chunks of the alphabet.
     */
    public static List<String> letterBoundaries(int count) {
        List<String> cuts = new ArrayList<>();
        for (int i = 1; i < count; i++) {
            cuts.add(String.valueOf((char) ('a' + (26 * i) / count)));
        }
        return cuts.stream().distinct().toList();
    }

    /** Boundaries at the given leading shard-key values (for example tenant ids), encoded as the key would be. */
    public static List<ShardKey> valueBoundaries(List<?> values) {
        return values.stream().map(KeyEncoding::encode).toList();
    }
}
