package io.shardline.cli.ops;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import io.shardline.controlplane.CommandPlanner;
import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.core.key.KeyHex;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.ZoneRange;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code shardline zone}: zone sharding. Shards join and leave zones; key ranges of a namespace, or a tenant's keys,
 * are pinned to a zone; the workers keep every pinned chunk on its zone's shards (moving back one found outside) and
 * the controller's splits, merges and an operator's rebalance keep it there.
 */
@Command(name = "zone", mixinStandardHelpOptions = true, description = "Zones: pin key ranges or tenants of a namespace to a set of shards.",
    subcommands = {ZoneCommands.AddShard.class, ZoneCommands.RemoveShard.class, ZoneCommands.Pin.class, ZoneCommands.Unpin.class,
        ZoneCommands.ListZones.class})
public final class ZoneCommands {

    private ZoneCommands() {
    }

    @Command(name = "add-shard", mixinStandardHelpOptions = true, description = "Add a shard to a zone.")
    public static final class AddShard extends PublishingCommand {
        @Option(names = "--zone", required = true, description = "The zone, e.g. eu.")
        String zone;

        @Option(names = "--shard", required = true, description = "The shard that joins it.")
        String shard;

        @Override
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.zoneShard(zone, shard, false);
        }
    }

    @Command(name = "remove-shard", mixinStandardHelpOptions = true,
        description = "Remove a shard from a zone; the zone's chunks on it are moved to the zone's other shards.")
    public static final class RemoveShard extends PublishingCommand {
        @Option(names = "--zone", required = true, description = "The zone.")
        String zone;

        @Option(names = "--shard", required = true, description = "The shard that leaves it.")
        String shard;

        @Override
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.zoneShard(zone, shard, true);
        }
    }

    /** A tenant, or a range's bounds. */
    static final class Range {
        @Option(names = "--tenant", description = "A tenant: every key of it (TENANT and TIME namespaces).")
        String tenant;

        @Option(names = "--min", description = "The range's inclusive lower bound in hex, as `routing` prints keys (`min` for the lowest).")
        String min;

        @Option(names = "--max", description = "The range's exclusive upper bound in hex; none for +infinity.")
        String max;
    }

    @Command(name = "pin", mixinStandardHelpOptions = true,
        description = "Pin a key range or a tenant of a namespace to a zone: its chunks live only on the zone's shards.")
    public static final class Pin extends PublishingCommand {
        @Option(names = "--ns", required = true, description = "Namespace, e.g. auth.users.")
        String namespace;

        @Option(names = "--zone", required = true, description = "The zone.")
        String zone;

        @ArgGroup(exclusive = false, multiplicity = "1")
        Range range;

        @Override
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.zoneRange(namespace, zone, range.min, range.max, range.tenant);
        }
    }

    @Command(name = "unpin", mixinStandardHelpOptions = true, description = "Unpin a key range or a tenant of a namespace from its zone.")
    public static final class Unpin extends PublishingCommand {
        @Option(names = "--ns", required = true, description = "Namespace, e.g. auth.users.")
        String namespace;

        @ArgGroup(exclusive = false, multiplicity = "1")
        Range range;

        @Override
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.zoneRange(namespace, null, range.min, range.max, range.tenant);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Every zone: its shards, and the key ranges and tenants pinned to it.")
    public static final class ListZones extends ReadCommands.Read {
        @Override
        int read(ControlPlaneClient plane, Rows.Format format) {
            Map<String, TreeSet<String>> shards = new TreeMap<>();
            for (ShardDescriptor shard : plane.shards().values()) {
                for (String zone : shard.getZones()) {
                    shards.computeIfAbsent(zone, z -> new TreeSet<>()).add(shard.getShardId() + (shard.getState() == ShardState.ACTIVE ? ""
                        : " (" + shard.getState() + ")"));
                }
            }
            Rows rows = new Rows(List.of("zone", "shards", "namespace", "min", "max", "tenant"));
            for (NamespaceConfig config : plane.namespaces().values()) {
                for (ZoneRange range : config.getZones()) {
                    shards.computeIfAbsent(range.getZone(), z -> new TreeSet<>());
                    rows.add(range.getZone(), String.join(",", shards.get(range.getZone())), config.getNamespace(), KeyHex.of(range.getMin()),
                        range.getMax() == null ? "+inf" : KeyHex.of(range.getMax()), range.getTenant() == null ? "" : range.getTenant());
                }
            }
            shards.forEach((zone, members) -> {
                boolean pinned = plane.namespaces().values().stream().anyMatch(c -> c.getZones().stream().anyMatch(r -> r.getZone().equals(zone)));
                if (!pinned) {
                    rows.add(zone, String.join(",", members), "", "", "", "");
                }
            });
            rows.print(out(), format, true);
            return 0;
        }
    }
}
