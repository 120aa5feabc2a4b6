package io.shardline.topology.balancer.policy;

/**
 * Where to split a chunk, as chosen from its key sample: the boundary between two distinct sampled keys that puts the
 * weight below it closest to half (weight = documents, or writes for a split by load). A chunk whose sample holds a
 * single distinct key cannot be split; one with no sample yet cannot be judged.
 *
 * @param splitKeyHex  the new chunk boundary ({@code null} unless {@link #splittable()})
 * @param samples      sampled documents of the chunk on its owner
 * @param distinctKeys distinct keys among them
 * @param weightBelow  weight of the samples below the split key
 * @param totalWeight  weight of all the chunk's samples
 */
public record SplitPoint(String splitKeyHex, int samples, int distinctKeys, double weightBelow, double totalWeight) {

    public boolean splittable() {
        return splitKeyHex != null;
    }

    /** True when the sample shows one key only: no boundary can divide the chunk. */
    public boolean unsplittable() {
        return samples > 0 && distinctKeys < 2;
    }

    /** Share of the weight below the split key. */
    public double fractionBelow() {
        return totalWeight == 0 ? 0 : weightBelow / totalWeight;
    }
}
