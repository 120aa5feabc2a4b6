package io.shardline.controlplane;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import org.apache.avro.specific.SpecificRecord;

import io.shardline.core.key.KeyHex;
import io.shardline.schemas.avro.AbortMigration;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.DrainShard;
import io.shardline.schemas.avro.MergeShards;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.Rebalance;
import io.shardline.schemas.avro.RollbackMigration;
import io.shardline.schemas.avro.ShardCommand;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.SplitChunk;
import io.shardline.schemas.avro.SplitShard;

/**
 * Operators' commands (CLI, admin API), checked against the control plane's tables before anything is published: an
 * unknown shard or namespace, no chunk at a key, a chunk that is migrating or already on its target, a split key
 * outside its chunk or an ended migration is an {@link InvalidCommand} naming the argument. Arguments are named as the CLI's options and the
 * admin API's fields: {@code ns}, {@code chunk}, {@code at}, {@code to}, {@code from}, {@code into}, {@code shard},
 * {@code migration}. Chunks are named by their min key in hex, {@code min} for the first.
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
        ChunkRoute route = idle(chunk(required("ns", namespace), required("chunk", chunk)));
        activeShard("to", required("to", to));
        if (to.equals(route.getShardId())) {
            throw new InvalidCommand("to", "the chunk is on " + to + " already");
        }
        return new Planned(route.getShardId(), MoveChunk.newBuilder().setNamespace(namespace).setChunkMin(route.getMin()).setTargetShardId(to)
            .build(), "move " + namespace + " chunk " + chunk + " from " + route.getShardId() + " to " + to, null);
    }

    /**
     * @param at     split key in hex, or {@code null} for the chunk's document median
     * @param to     shard the upper half moves to, or {@code null} for the least used
     * @param noMove split the metadata only (needs {@code at})
     */
    public Planned split(String namespace, String chunk, String at, String to, boolean noMove) {
        ChunkRoute route = idle(chunk(required("ns", namespace), required("chunk", chunk)));
        ByteBuffer splitKey = null;
        if (at != null) {
            String hex = at.toLowerCase(Locale.ROOT);
            splitKey = bytes("at", hex);
            String min = KeyHex.of(route.getMin());
            String max = KeyHex.of(route.getMax());
            if (hex.compareTo(min) <= 0 || (max != null && hex.compareTo(max) >= 0)) {
                throw new InvalidCommand("at", "key " + at + " is not inside the chunk [" + min + ", " + (max == null ? "+inf" : max) + ")");
            }
        }
        if (noMove) {
            if (splitKey == null) {
                throw new InvalidCommand("at", "a metadata-only split needs the split key");
            }
            return new Planned(route.getShardId(), SplitChunk.newBuilder().setNamespace(namespace).setChunkMin(route.getMin())
                .setSplitKey(splitKey).build(), "split " + namespace + " chunk " + chunk + " at " + at, null);
        }
        if (to != null) {
            activeShard("to", to);
            if (to.equals(route.getShardId())) {
                throw new InvalidCommand("to", "the chunk is on " + to + " already");
            }
        }
        return new Planned(route.getShardId(), SplitShard.newBuilder().setShardId(route.getShardId()).setNamespace(namespace)
            .setChunkMin(route.getMin()).setSplitKey(splitKey).setTargetShardId(to).build(),
            "split " + namespace + " chunk " + chunk + " on " + route.getShardId() + (at == null ? " at its median" : " at " + at)
                + " and move the upper half" + (to == null ? "" : " to " + to), null);
    }

    public Planned merge(String from, String into) {
        activeShard("from", required("from", from));
        activeShard("into", required("into", into));
        if (from.equals(into)) {
            throw new InvalidCommand("into", "a shard cannot be merged into itself");
        }
        return new Planned(from, MergeShards.newBuilder().setSourceShardId(from).setTargetShardId(into).build(), "merge " + from + " into " + into, null);
    }

    public Planned drain(String shard) {
        activeShard("shard", required("shard", shard));
        return new Planned(shard, DrainShard.newBuilder().setShardId(shard).build(), "drain " + shard, null);
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
        MigrationState state = running(migrationId);
        return new Planned(state.getSourceShardId(), RollbackMigration.newBuilder().setMigrationId(migrationId).build(),
            "roll back migration " + migrationId + " (" + state.getPhase() + ")", migrationId);
    }

    public Planned abort(String migrationId) {
        MigrationState state = running(migrationId);
        if (state.getPhase() == MigrationPhase.CUT_OVER) {
            throw new InvalidCommand("migration", "migration " + migrationId + " has cut over; roll it back instead");
        }
        return new Planned(state.getSourceShardId(), AbortMigration.newBuilder().setMigrationId(migrationId).build(),
            "abort migration " + migrationId + " (" + state.getPhase() + ")", migrationId);
    }

    public static boolean ended(MigrationState migration) {
        return migration.getPhase() == MigrationPhase.CLEANED || migration.getPhase() == MigrationPhase.ABORTED
            || migration.getPhase() == MigrationPhase.ROLLED_BACK;
    }

    private MigrationState running(String migrationId) {
        MigrationState state = plane.migrations().get(required("migration", migrationId));
        if (state == null) {
            throw new InvalidCommand("migration", "no migration " + migrationId);
        }
        if (ended(state)) {
            throw new InvalidCommand("migration", "migration " + migrationId + " has ended (" + state.getPhase() + ")");
        }
        return state;
    }

    private ShardDescriptor activeShard(String argument, String shardId) {
        ShardDescriptor shard = plane.shards().get(shardId);
        if (shard == null) {
            throw new InvalidCommand(argument, "no shard " + shardId + " is registered (known: " + plane.shards().keySet() + ")");
        }
        if (shard.getState() != ShardState.ACTIVE) {
            throw new InvalidCommand(argument, "shard " + shardId + " is " + shard.getState() + ", not ACTIVE");
        }
        return shard;
    }

    private ChunkRoute chunk(String namespace, String chunk) {
        List<ChunkRoute> routes = plane.routing(namespace);
        if (routes.isEmpty()) {
            throw new InvalidCommand("ns", "no routing for namespace " + namespace);
        }
        String minHex = "min".equals(chunk) ? "" : chunk.toLowerCase(Locale.ROOT);
        return routes.stream().filter(route -> KeyHex.of(route.getMin()).equals(minHex)).findFirst().orElseThrow(() -> new InvalidCommand("chunk",
            "no chunk of " + namespace + " starts at " + chunk + " (see the routing of " + namespace + ")"));
    }

    /** The chunk, unless a migration holds it (until that migration ends, as the workers would refuse it too). */
    private static ChunkRoute idle(ChunkRoute route) {
        if (route.getState() != ChunkState.ACTIVE || route.getMigrationId() != null) {
            String min = KeyHex.of(route.getMin());
            throw new InvalidCommand("chunk", "the chunk " + (min.isEmpty() ? "min" : min) + " of " + route.getNamespace() + " is migrating ("
                + route.getState() + ", migration " + route.getMigrationId() + "); try again once that migration has ended");
        }
        return route;
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
