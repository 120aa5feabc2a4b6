package io.shardline.topology.balancer;

import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.KeySample;
import io.shardline.topology.balancer.policy.ChunkView;
import io.shardline.topology.balancer.policy.SplitPoint;
import io.shardline.topology.balancer.policy.SplitPoints;

/** Split points chosen from the global key-sample store: the boundary that puts half the chunk's sampled weight below it. */
final class KeySampleSplitPoints implements SplitPoints {

    private final ReadOnlyKeyValueStore<String, ValueAndTimestamp<KeySample>> samples;

    KeySampleSplitPoints(ReadOnlyKeyValueStore<String, ValueAndTimestamp<KeySample>> samples) {
        this.samples = samples;
    }

    @Override
    public SplitPoint find(ChunkView chunk, String owner, boolean byWrites) {
        return find(chunk.namespace(), chunk.minHex(), chunk.maxHex(), owner, byWrites);
    }

    /**
     * @param namespace the chunk's namespace
     * @param minHex    the chunk's inclusive lower bound
     * @param maxHex    its exclusive upper bound, {@code null} for +infinity
     * @param owner     only documents seen on this shard count
     * @param byWrites  weigh sampled documents by their writes instead of counting them
     */
    private SplitPoint find(String namespace, String minHex, String maxHex, String owner, boolean byWrites) {
        List<String> keys = new ArrayList<>();
        List<Double> weights = new ArrayList<>();
        double totalWrites = 0;
        int count = 0;
        int prefix = TopicCatalog.routingKey(namespace, "").length();
        String from = TopicCatalog.routingKey(namespace, minHex);
        String to = TopicCatalog.routingKey(namespace, maxHex == null ? "~" : maxHex);
        try (KeyValueIterator<String, ValueAndTimestamp<KeySample>> range = samples.range(from, to)) {
            while (range.hasNext()) {
                KeyValue<String, ValueAndTimestamp<KeySample>> entry = range.next();
                KeySample sample = entry.value.value();
                if (!owner.equals(sample.getShardId())) {
                    continue;
                }
                // '!' sorts below every hex digit, so the range holds exactly the keys in [min, max).
                String keyHex = entry.key.substring(prefix, entry.key.indexOf('!', prefix));
                count++;
                totalWrites += sample.getWrites();
                double weight = byWrites ? sample.getWrites() : 1;
                int last = keys.size() - 1;
                if (last >= 0 && keys.get(last).equals(keyHex)) {
                    weights.set(last, weights.get(last) + weight);
                } else {
                    keys.add(keyHex);
                    weights.add(weight);
                }
            }
        }
        if (byWrites && totalWrites == 0) {
            return find(namespace, minHex, maxHex, owner, false);
        }
        double total = weights.stream().mapToDouble(Double::doubleValue).sum();
        if (keys.size() < 2) {
            return new SplitPoint(null, count, keys.size(), 0, total);
        }
        String best = null;
        double bestBelow = 0;
        double below = weights.get(0);
        for (int i = 1; i < keys.size(); i++) {
            if (best == null || Math.abs(below - total / 2) < Math.abs(bestBelow - total / 2)) {
                best = keys.get(i);
                bestBelow = below;
            }
            below += weights.get(i);
        }
        return new SplitPoint(best, count, keys.size(), bestBelow, total);
    }
}
