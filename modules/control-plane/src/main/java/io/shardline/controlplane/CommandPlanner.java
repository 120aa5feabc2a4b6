package io.shardline.controlplane;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

import org.apache.avro.specific.SpecificRecord;

import io.shardline.controlplane.CommandRules.Subject;
import io.shardline.core.key.KeyHex;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKeyStrategies;
import io.shardline.core.routing.Zones;
import io.shardline.schemas.avro.AbortMigration;
import io.shardline.schemas.avro.AddStandby;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.DrainShard;
import io.shardline.schemas.avro.ReplaceShard;
import io.shardline.schemas.avro.MergeShards;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.Rebalance;
import io.shardline.schemas.avro.RollbackMigration;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.SplitChunk;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.SplitShard;
import io.shardline.schemas.avro.ZoneKeyRange;
import io.shardline.schemas.avro.ZoneShard;

/**
 * Operators' commands (CLI, admin API), checked against the control plane's tables with {@link CommandRules} before
 * anything is published: a broken rule is an {@link InvalidCommand} naming the argument. Arguments are named as the CLI's options and the
 * admin API's fields: {@code ns}, {@code chunk}, {@code at}, {@code to}, {@code from}, {@code into}, {@code shard},
 * {@code migration}, {@code zone}, {@code min}, {@code max}, {@code tenant}. Chunks are named by their min key in hex, {@code min} for the first.
 */
public final class CommandPlanner {

    /** A command's body, the key it is published under, what it does in words, and the migration it acts on, if any. */
    public record Planned(String key, SpecificRecord body, String description, String migrationId) {
        /** The command as published. */
        public ShardCommand command(String issuer, String reason) {
            return ShardCommand.newBuilder().setCommandId(UUID.randomUUID().toString()).setIssuer(issuer).setTimestamp(Instant.now())
                .setReason(reason == null || reason.isBlank() ? description : reason).setCommand(body).build();
        }
    }

    /** An argument that does not fit the control plane: which one, and why. */
    public static final class InvalidCommand extends IllegalArgumentException {
        private final String argument;

        public InvalidCommand(String argument, String problem) {
            super(argument + ": " + problem);
            this.argument = argument;
        }

        public String argument() {
            return argument;
        }
    }

    private final ControlPlaneClient plane;

    public CommandPlanner(ControlPlaneClient plane) {
        this.plane = plane;
    }

    public Planned move(String namespace, String chunk, String to) {
        return named(Map.of(Subject.NAMESPACE, "ns", Subject.CHUNK, "chunk", Subject.SHARD, "to", Subject.TARGET, "to"), () -> {
            ChunkRoute route = idle(chunk(required("ns", namespace), required("chunk", chunk)));
            CommandRules.activeShard(plane.shards(), Subject.SHARD, required("to", to));
            CommandRules.elsewhere(route, to);
            CommandRules.inZone(zones(), route, to);
            return new Planned(route.getShardId(), MoveChunk.newBuilder().setNamespace(namespace).setChunkMin(route.getMin()).setTargetShardId(to)
                .build(), "move " + namespace + " chunk " + chunk + " from " + route.getShardId() + " to " + to, null);
        });
    }

    /**
     * @param at     split key in hex, or {@code null} for the chunk's document median
     * @param to     shard the upper half moves to, or {@code null} for the least used
     * @param noMove split the metadata only (needs {@code at})
     */
    public Planned split(String namespace, String chunk, String at, String to, boolean noMove) {
        return named(Map.of(Subject.NAMESPACE, "ns", Subject.CHUNK, "chunk", Subject.SPLIT_KEY, "at", Subject.SHARD, "to", Subject.TARGET, "to"), () -> {
            ChunkRoute route = idle(chunk(required("ns", namespace), required("chunk", chunk)));
            ByteBuffer splitKey = null;
            if (at != null) {
                String hex = at.toLowerCase(Locale.ROOT);
                splitKey = bytes("at", hex);
                CommandRules.inside(route, hex);
            }
            if (noMove) {
                if (splitKey == null) {
                    throw new InvalidCommand("at", "a metadata-only split needs the split key");
                }
                return new Planned(route.getShardId(), SplitChunk.newBuilder().setNamespace(namespace).setChunkMin(route.getMin())
                    .setSplitKey(splitKey).build(), "split " + namespace + " chunk " + chunk + " at " + at, null);
            }
            if (to != null) {
                CommandRules.activeShard(plane.shards(), Subject.SHARD, to);
                CommandRules.elsewhere(route, to);
                CommandRules.inZone(zones(), at == null ? route : ChunkRoute.newBuilder(route).setMin(splitKey).build(), to);
            }
            return new Planned(route.getShardId(), SplitShard.newBuilder().setShardId(route.getShardId()).setNamespace(namespace)
                .setChunkMin(route.getMin()).setSplitKey(splitKey).setTargetShardId(to).build(),
                "split " + namespace + " chunk " + chunk + " on " + route.getShardId() + (at == null ? " at its median" : " at " + at)
                    + " and move the upper half" + (to == null ? "" : " to " + to), null);
        });
    }

    public Planned merge(String from, String into) {
        required("from", from);
        required("into", into);
        named(Map.of(Subject.SHARD, "from"), () -> CommandRules.activeShard(plane.shards(), Subject.SHARD, from));
        return named(Map.of(Subject.SHARD, "into", Subject.TARGET, "into"), () -> {
            CommandRules.activeShard(plane.shards(), Subject.SHARD, into);
            CommandRules.distinct(from, into);
            return new Planned(from, MergeShards.newBuilder().setSourceShardId(from).setTargetShardId(into).build(), "merge " + from + " into " + into, null);
        });
    }

    /** Hands every chunk of a lost shard to a replacement holding a restore of it; the workers check the restore too. */
    public Planned replaceShard(String shard, String replacement) {
        return named(Map.of(Subject.SHARD, "shard", Subject.TARGET, "with", Subject.MIGRATION, "shard"), () -> {
            CommandRules.replaceable(plane.shards(), plane.routing(null), plane.migrations().values(), required("shard", shard), required("with", replacement));
            return new Planned(shard, ReplaceShard.newBuilder().setShardId(shard).setReplacementShardId(replacement).build(),
                "replace " + shard + " with " + replacement, null);
        });
    }

    public Planned addStandby(String shard, String uri) {
        return named(Map.of(Subject.SHARD, "shard", Subject.TARGET, "uri"), () -> {
            CommandRules.standbyAddable(plane.shards(), required("shard", shard), required("uri", uri));
            return new Planned(shard, AddStandby.newBuilder().setShardId(shard).setConnectionString(uri).build(),
                "give " + shard + " the standby " + uri, null);
        });
    }

    public Planned drain(String shard) {
        return named(Map.of(Subject.SHARD, "shard"), () -> {
            CommandRules.activeShard(plane.shards(), Subject.SHARD, required("shard", shard));
            return new Planned(shard, DrainShard.newBuilder().setShardId(shard).build(), "drain " + shard, null);
        });
    }

    /** @param namespace one namespace, or {@code null} for all */
    public Planned rebalance(String namespace) {
        if (namespace != null && plane.routing(namespace).isEmpty()) {
            throw new InvalidCommand("ns", "no routing for namespace " + namespace);
        }
        return new Planned(namespace == null ? "all" : namespace, Rebalance.newBuilder().setNamespace(namespace).build(),
            "rebalance " + (namespace == null ? "every namespace" : namespace), null);
    }

    public Planned rollback(String migrationId) {
        return named(Map.of(Subject.MIGRATION, "migration"), () -> {
            MigrationState state = CommandRules.unfinished(plane.migrations(), required("migration", migrationId));
            return new Planned(state.getSourceShardId(), RollbackMigration.newBuilder().setMigrationId(migrationId).build(),
                "roll back migration " + migrationId + " (" + state.getPhase() + ")", migrationId);
        });
    }

    public Planned abort(String migrationId) {
        return named(Map.of(Subject.MIGRATION, "migration"), () -> {
            MigrationState state = CommandRules.unfinished(plane.migrations(), required("migration", migrationId));
            CommandRules.abortable(state);
            return new Planned(state.getSourceShardId(), AbortMigration.newBuilder().setMigrationId(migrationId).build(),
                "abort migration " + migrationId + " (" + state.getPhase() + ")", migrationId);
        });
    }

    /** Adds a shard to a zone, or removes it ({@code remove}). */
    public Planned zoneShard(String zone, String shard, boolean remove) {
        required("zone", zone);
        return named(Map.of(Subject.SHARD, "shard"), () -> {
            CommandRules.activeShard(plane.shards(), Subject.SHARD, required("shard", shard));
            return new Planned(shard, ZoneShard.newBuilder().setZone(zone).setShardId(shard).setRemove(remove).build(),
                (remove ? "remove " + shard + " from" : "add " + shard + " to") + " zone " + zone, null);
        });
    }

    /**
     * Pins a key range of a namespace to a zone ({@code zone}), or unpins it ({@code null}): the range given by its
     * bounds in hex ({@code max} null for +infinity) or as a tenant's keys.
     */
    public Planned zoneRange(String namespace, String zone, String min, String max, String tenant) {
        NamespaceConfig config = plane.namespaces().get(required("ns", namespace));
        if (config == null) {
            throw new InvalidCommand("ns", "no namespace " + namespace + " is configured");
        }
        if ((tenant == null) == (min == null)) {
            throw new InvalidCommand(tenant == null ? "min" : "tenant", "give either a tenant or the range's bounds (min, and max unless +infinity)");
        }
        String minHex;
        String maxHex;
        if (tenant != null) {
            if (config.getStrategy() == ShardKeyStrategyType.HASHED) {
                throw new InvalidCommand("tenant", namespace + " is hashed on " + config.getShardKeyFields() + ": its keys are not grouped by tenant; "
                    + "give the range's bounds instead");
            }
            KeyRange range = ShardKeyStrategies.of(config).rangeOfLeadingValue(tenant);
            minHex = range.min().toHex();
            maxHex = range.max() == null ? null : range.max().toHex();
        } else {
            minHex = "min".equals(min) ? "" : min.toLowerCase(Locale.ROOT);
            bytes("min", minHex);
            maxHex = max == null ? null : max.toLowerCase(Locale.ROOT);
            bytes("max", maxHex == null ? "" : maxHex);
        }
        Zones zones = zones();
        String what = "[" + CommandRules.name(minHex) + ", " + (maxHex == null ? "+inf" : maxHex) + ") of " + namespace
            + (tenant == null ? "" : " (tenant " + tenant + ")");
        return named(Map.of(Subject.ZONE, "zone", Subject.RANGE, tenant == null ? "min" : "tenant"), () -> {
            if (zone == null) {
                CommandRules.pinned(zones, namespace, minHex, maxHex);
            } else {
                CommandRules.pinnable(zones, namespace, zone, minHex, maxHex);
            }
            return new Planned(namespace, ZoneKeyRange.newBuilder().setNamespace(namespace).setZone(zone).setMin(KeyHex.bytes(minHex))
                .setMax(KeyHex.bytes(maxHex)).setTenant(tenant).build(), zone == null ? "unpin " + what : "pin " + what + " to zone " + zone, null);
        });
    }

    private Zones zones() {
        return Zones.of(plane.shards().values(), plane.namespaces().values());
    }

    /** Runs a check, naming a broken rule's subject as the command's argument for it. */
    private static <T> T named(Map<Subject, String> arguments, Supplier<T> check) {
        try {
            return check.get();
        } catch (CommandRules.Violation violation) {
            throw new InvalidCommand(arguments.getOrDefault(violation.subject(), violation.subject().name().toLowerCase(Locale.ROOT)),
                violation.getMessage());
        }
    }

    private ChunkRoute chunk(String namespace, String chunk) {
        return CommandRules.chunk(plane.routing(namespace), namespace, "min".equals(chunk) ? "" : chunk.toLowerCase(Locale.ROOT));
    }

    /** The chunk, unless a migration holds or plans to move it (the workers would refuse it too). */
    private ChunkRoute idle(ChunkRoute route) {
        return CommandRules.idle(route, plane.migrations().values());
    }

    private static String required(String argument, String value) {
        if (value == null || value.isBlank()) {
            throw new InvalidCommand(argument, "is required");
        }
        return value;
    }

    private static ByteBuffer bytes(String argument, String hex) {
        try {
            return KeyHex.bytes(hex);
        } catch (IllegalArgumentException e) {
            throw new InvalidCommand(argument, "'" + hex + "' is not a hex key: " + e.getMessage());
        }
    }
}
