package io.shardline.core.routing;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.shardline.core.key.KeyHex;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.ZoneRange;

/**
 * Zone sharding, as MongoDB has it: shards belong to zones ({@link ShardDescriptor#getZones()}), and key ranges of a
 * namespace are pinned to a zone ({@link NamespaceConfig#getZones()}, a tenant's keys being one such range). A chunk that
 * lies inside a zone's range lives only on an ACTIVE shard of that zone; a chunk outside every zone range lives anywhere;
 * a chunk that straddles a zone boundary is split there first. Immutable, built from the shards and configs as read.
 */
public final class Zones {

    private final Map<String, Set<String>> activeShardsByZone = new HashMap<>();
    private final Map<String, List<ZoneRange>> rangesByNamespace = new HashMap<>();

    private Zones() {
    }

    public static Zones of(Collection<ShardDescriptor> shards, Collection<NamespaceConfig> configs) {
        Zones zones = new Zones();
        for (ShardDescriptor shard : shards) {
            for (String zone : shard.getZones()) {
                Set<String> members = zones.activeShardsByZone.computeIfAbsent(zone, z -> new TreeSet<>());
                if (shard.getState() == ShardState.ACTIVE) {
                    members.add(shard.getShardId());
                }
            }
        }
        for (NamespaceConfig config : configs) {
            if (!config.getZones().isEmpty()) {
                List<ZoneRange> ranges = new ArrayList<>(config.getZones());
                ranges.sort((a, b) -> KeyHex.of(a.getMin()).compareTo(KeyHex.of(b.getMin())));
                zones.rangesByNamespace.put(config.getNamespace(), List.copyOf(ranges));
            }
        }
        return zones;
    }

    /** True when some namespace has a key range pinned to a zone. */
    public boolean any() {
        return !rangesByNamespace.isEmpty();
    }

    /** The namespaces with zone ranges. */
    public Set<String> namespaces() {
        return rangesByNamespace.keySet();
    }

    /** The zone ranges of a namespace, by their lower bound. */
    public List<ZoneRange> ranges(String namespace) {
        return rangesByNamespace.getOrDefault(namespace, List.of());
    }

    /** The ACTIVE shards of a zone (empty for a zone no shard belongs to). */
    public Set<String> shardsOf(String zone) {
        return activeShardsByZone.getOrDefault(zone, Set.of());
    }

    /**
     * The zone of a chunk {@code [min, max)} for grouping it: the zone of the range holding its lower bound, or null
     * when none does. For a chunk inside one zone range that is its zone; a chunk that straddles a zone boundary is to
     * be split at {@link #boundariesInside}, and where it may live meanwhile is {@link #allowed}.
     */
    public String zoneOf(String namespace, ByteBuffer min, ByteBuffer max) {
        String minHex = KeyHex.of(min);
        for (ZoneRange range : ranges(namespace)) {
            if (contains(range, minHex)) {
                return range.getZone();
            }
        }
        return null;
    }

    /** The zone range bounds strictly inside a chunk {@code [min, max)}, in key order: where it is to be split. */
    public List<String> boundariesInside(String namespace, ByteBuffer min, ByteBuffer max) {
        String minHex = KeyHex.of(min);
        String maxHex = KeyHex.of(max);
        TreeSet<String> inside = new TreeSet<>();
        for (ZoneRange range : ranges(namespace)) {
            for (String bound : new String[] {KeyHex.of(range.getMin()), KeyHex.of(range.getMax())}) {
                if (bound != null && bound.compareTo(minHex) > 0 && (maxHex == null || bound.compareTo(maxHex) < 0)) {
                    inside.add(bound);
                }
            }
        }
        return List.copyOf(inside);
    }

    /**
     * The shards a chunk may live on: the ACTIVE shards of every zone whose range overlaps it (those of its zone, for a
     * chunk inside one range), or null (any shard) when it overlaps no zone range.
     */
    public Set<String> allowed(String namespace, ByteBuffer min, ByteBuffer max) {
        String minHex = KeyHex.of(min);
        String maxHex = KeyHex.of(max);
        Set<String> allowed = null;
        for (ZoneRange range : ranges(namespace)) {
            if (overlap(KeyHex.of(range.getMin()), KeyHex.of(range.getMax()), minHex, maxHex)) {
                Set<String> members = new TreeSet<>(shardsOf(range.getZone()));
                if (allowed != null) {
                    members.retainAll(allowed);
                }
                allowed = members;
            }
        }
        return allowed;
    }

    /** True when the chunk may live on the shard: it overlaps no zone range, or the shard is in every zone it overlaps. */
    public boolean allows(String namespace, ByteBuffer min, ByteBuffer max, String shardId) {
        Set<String> allowed = allowed(namespace, min, max);
        return allowed == null || allowed.contains(shardId);
    }

    /** True when {@code minHex} lies in the range. */
    static boolean contains(ZoneRange range, String keyHex) {
        String max = KeyHex.of(range.getMax());
        return keyHex.compareTo(KeyHex.of(range.getMin())) >= 0 && (max == null || keyHex.compareTo(max) < 0);
    }

    /** True when two ranges given by hex bounds ({@code null} max for +infinity) overlap. */
    public static boolean overlap(String minA, String maxA, String minB, String maxB) {
        return (maxB == null || minA.compareTo(maxB) < 0) && (maxA == null || minB.compareTo(maxA) < 0);
    }
}
