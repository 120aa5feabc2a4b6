package io.shardline.cli.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.yaml.snakeyaml.nodes.Node;

import io.shardline.core.key.KeyHex;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKeyStrategies;
import io.shardline.core.routing.Zones;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ZoneRange;

/** A namespace's zone ranges as the cluster file declares them: each a tenant or hex bounds, none overlapping another. */
final class ZoneRanges {

    /** What a problem is reported with: the node it is at, the field's path and what is wrong. */
    interface Problems {
        void report(Node node, String field, String message);
    }

    /** One declared range: where it is, its tenant's node, and its values as read ({@code null} when absent). */
    record Declared(String path, Node node, Node tenantNode, String zone, String tenant, String min, String max) {
    }

    private ZoneRanges() {
    }

    /** The declared ranges, resolved against the namespace's shard key; a range with a problem is reported and left out. */
    static List<ZoneRange> resolve(NamespaceConfig config, List<Declared> declared, Problems problems) {
        List<ZoneRange> ranges = new ArrayList<>();
        for (Declared range : declared) {
            String minHex;
            String maxHex;
            if ((range.tenant() == null) == (range.min() == null)) {
                problems.report(range.node(), range.path(), "give either a tenant or min (and max, unless +infinity)");
                continue;
            } else if (range.tenant() != null) {
                if (config.getStrategy() == ShardKeyStrategyType.HASHED) {
                    problems.report(range.tenantNode(), range.path() + ".tenant", "a hashed namespace's keys are not grouped by tenant; give min and max");
                    continue;
                }
                KeyRange keys = ShardKeyStrategies.of(config).rangeOfLeadingValue(range.tenant());
                minHex = keys.min().toHex();
                maxHex = keys.max() == null ? null : keys.max().toHex();
            } else {
                minHex = range.min().equals("min") ? "" : range.min().toLowerCase(Locale.ROOT);
                maxHex = range.max() == null ? null : range.max().toLowerCase(Locale.ROOT);
                if (!minHex.matches("([0-9a-f]{2})*") || maxHex != null && (!maxHex.matches("([0-9a-f]{2})+") || minHex.compareTo(maxHex) >= 0)) {
                    problems.report(range.node(), range.path(), "min and max must be hex keys (an even number of hex digits), min below max");
                    continue;
                }
            }
            for (ZoneRange other : ranges) {
                if (Zones.overlap(KeyHex.of(other.getMin()), KeyHex.of(other.getMax()), minHex, maxHex)) {
                    problems.report(range.node(), range.path(), "overlaps another range pinned to zone " + other.getZone());
                }
            }
            if (range.zone() != null) {
                ranges.add(ZoneRange.newBuilder().setZone(range.zone()).setMin(KeyHex.bytes(minHex)).setMax(KeyHex.bytes(maxHex))
                    .setTenant(range.tenant()).build());
            }
        }
        return ranges;
    }
}
