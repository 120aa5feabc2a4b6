package io.shardline.cli.ops;

import java.nio.ByteBuffer;

import io.shardline.schemas.avro.AbortMigration;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.DrainShard;
import io.shardline.schemas.avro.MergeShards;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.Rebalance;
import io.shardline.schemas.avro.RollbackMigration;
import io.shardline.schemas.avro.SplitChunk;
import io.shardline.schemas.avro.SplitShard;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The operator's commands to the workers: split, merge, move-chunk, rebalance, drain, rollback, abort. */
public final class CommandVerbs {

    private CommandVerbs() {
    }

    @Command(name = "split", mixinStandardHelpOptions = true,
        description = "Split a chunk at a key; by default the upper half then moves to the least used shard (or --to).")
    public static final class Split extends PublishingCommand {
        @Option(names = "--ns", required = true, description = "Namespace, e.g. auth.users.")
        String namespace;

        @Option(names = "--chunk", required = true, description = "The chunk's min key in hex, as `routing` prints it (`min` for the first chunk).")
        String chunk;

        @Option(names = "--at", description = "Split key in hex; without it the workers split at the chunk's document median.")
        String at;

        @Option(names = "--to", description = "Shard the upper half moves to (default: the workers pick the least used).")
        String to;

        @Option(names = "--no-move", negatable = false, description = "Only split the chunk's metadata; both halves stay (needs --at).")
        boolean noMove;

        @Override
        protected Planned plan(ControlPlaneClient plane) {
            ChunkRoute route = chunk(plane, namespace, chunk);
            ByteBuffer splitKey = at == null ? null : bytes("--at", at);
            if (splitKey != null) {
                String hex = at.toLowerCase(java.util.Locale.ROOT);
                String min = ControlPlaneClient.hex(route.getMin());
                String max = ControlPlaneClient.hex(route.getMax());
                if (hex.compareTo(min) <= 0 || (max != null && hex.compareTo(max) >= 0)) {
                    throw new Refused("--at", "key " + at + " is not inside the chunk [" + min + ", " + (max == null ? "+inf" : max) + ")");
                }
            }
            if (noMove) {
                if (splitKey == null) {
                    throw new Refused("--at", "a metadata-only split (--no-move) needs the split key");
                }
                return new Planned(route.getShardId(), SplitChunk.newBuilder().setNamespace(namespace).setChunkMin(route.getMin())
                    .setSplitKey(splitKey).build(), "split " + namespace + " chunk " + chunk + " at " + at);
            }
            if (to != null) {
                activeShard(plane, "--to", to);
                if (to.equals(route.getShardId())) {
                    throw new Refused("--to", "the chunk is on " + to + " already");
                }
            }
            return new Planned(route.getShardId(), SplitShard.newBuilder().setShardId(route.getShardId()).setNamespace(namespace)
                .setChunkMin(route.getMin()).setSplitKey(splitKey).setTargetShardId(to).build(),
                "split " + namespace + " chunk " + chunk + " on " + route.getShardId() + (at == null ? " at its median" : " at " + at)
                    + " and move the upper half" + (to == null ? "" : " to " + to));
        }
    }

    @Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Move every chunk of a shard to another, then retire it.")
    public static final class Merge extends PublishingCommand {
        @Option(names = "--from", required = true, description = "The shard that is merged away.")
        String from;

        @Option(names = "--into", required = true, description = "The shard that takes its chunks.")
        String into;

        @Override
        protected Planned plan(ControlPlaneClient plane) {
            activeShard(plane, "--from", from);
            activeShard(plane, "--into", into);
            if (from.equals(into)) {
                throw new Refused("--into", "a shard cannot be merged into itself");
            }
            return new Planned(from, MergeShards.newBuilder().setSourceShardId(from).setTargetShardId(into).build(),
                "merge " + from + " into " + into);
        }
    }

    @Command(name = "move-chunk", mixinStandardHelpOptions = true, description = "Move one chunk to another shard, online.")
    public static final class Move extends PublishingCommand {
        @Option(names = "--ns", required = true, description = "Namespace, e.g. auth.users.")
        String namespace;

        @Option(names = "--chunk", required = true, description = "The chunk's min key in hex, as `routing` prints it (`min` for the first chunk).")
        String chunk;

        @Option(names = "--to", required = true, description = "The shard it moves to.")
        String to;

        @Override
        protected Planned plan(ControlPlaneClient plane) {
            ChunkRoute route = chunk(plane, namespace, chunk);
            activeShard(plane, "--to", to);
            if (to.equals(route.getShardId())) {
                throw new Refused("--to", "the chunk is on " + to + " already");
            }
            return new Planned(route.getShardId(), MoveChunk.newBuilder().setNamespace(namespace).setChunkMin(route.getMin())
                .setTargetShardId(to).build(), "move " + namespace + " chunk " + chunk + " from " + route.getShardId() + " to " + to);
        }
    }

    @Command(name = "rebalance", mixinStandardHelpOptions = true,
        description = "Even out the number of chunks per shard, of one namespace or all.")
    public static final class RebalanceVerb extends PublishingCommand {
        @Option(names = "--ns", description = "Only this namespace.")
        String namespace;

        @Override
        protected Planned plan(ControlPlaneClient plane) {
            if (namespace != null && plane.routing(namespace).isEmpty()) {
                throw new Refused("--ns", "no routing for namespace " + namespace);
            }
            return new Planned(namespace == null ? "all" : namespace, Rebalance.newBuilder().setNamespace(namespace).build(),
                "rebalance " + (namespace == null ? "every namespace" : namespace));
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true, description = "Move every chunk off a shard, spreading them over the others.")
    public static final class Drain extends PublishingCommand {
        @Option(names = "--shard", required = true, description = "The shard to empty.")
        String shard;

        @Override
        protected Planned plan(ControlPlaneClient plane) {
            activeShard(plane, "--shard", shard);
            return new Planned(shard, DrainShard.newBuilder().setShardId(shard).build(), "drain " + shard);
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
        description = "Roll a migration back: before its cutover the target copy is dropped; within the grace period the source owns the range again.")
    public static final class Rollback extends PublishingCommand {
        @Option(names = "--migration", required = true, description = "Migration id, as `migrations` prints it.")
        String migration;

        @Override
        protected Planned plan(ControlPlaneClient plane) {
            MigrationState state = running(plane, migration);
            return new Planned(state.getSourceShardId(), RollbackMigration.newBuilder().setMigrationId(migration).build(),
                "roll back migration " + migration + " (" + state.getPhase() + ")");
        }

        @Override
        protected String followsMigration() {
            return migration;
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true, description = "Abort a migration before its cutover; the source stays untouched.")
    public static final class Abort extends PublishingCommand {
        @Option(names = "--migration", required = true, description = "Migration id, as `migrations` prints it.")
        String migration;

        @Override
        protected Planned plan(ControlPlaneClient plane) {
            MigrationState state = running(plane, migration);
            if (state.getPhase() == MigrationPhase.CUT_OVER) {
                throw new Refused("--migration", "migration " + migration + " has cut over; roll it back instead");
            }
            return new Planned(state.getSourceShardId(), AbortMigration.newBuilder().setMigrationId(migration).build(),
                "abort migration " + migration + " (" + state.getPhase() + ")");
        }

        @Override
        protected String followsMigration() {
            return migration;
        }
    }

    static MigrationState running(ControlPlaneClient plane, String migrationId) {
        MigrationState state = plane.migrations().get(migrationId);
        if (state == null) {
            throw new PublishingCommand.Refused("--migration", "no migration " + migrationId);
        }
        if (PublishingCommand.ended(state)) {
            throw new PublishingCommand.Refused("--migration", "migration " + migrationId + " has ended (" + state.getPhase() + ")");
        }
        return state;
    }
}
