package io.shardline.cli.ops;

import io.shardline.controlplane.CommandPlanner;
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
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.split(namespace, chunk, at, to, noMove);
        }
    }

    @Command(name = "merge", mixinStandardHelpOptions = true, description = "Move every chunk of a shard to another, then retire it.")
    public static final class Merge extends PublishingCommand {
        @Option(names = "--from", required = true, description = "The shard that is merged away.")
        String from;

        @Option(names = "--into", required = true, description = "The shard that takes its chunks.")
        String into;

        @Override
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.merge(from, into);
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
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.move(namespace, chunk, to);
        }
    }

    @Command(name = "rebalance", mixinStandardHelpOptions = true, description = "Even out the number of chunks per shard, of one namespace or all.")
    public static final class RebalanceVerb extends PublishingCommand {
        @Option(names = "--ns", description = "Only this namespace.")
        String namespace;

        @Override
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.rebalance(namespace);
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true, description = "Move every chunk off a shard, spreading them over the others.")
    public static final class Drain extends PublishingCommand {
        @Option(names = "--shard", required = true, description = "The shard to empty.")
        String shard;

        @Override
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.drain(shard);
        }
    }

    @Command(name = "replace-shard", mixinStandardHelpOptions = true,
        description = "Disaster recovery: hand every chunk of a lost shard, without copying, to a shard holding a completed restore of it (see restore --into).")
    public static final class ReplaceShardVerb extends PublishingCommand {
        @Option(names = "--shard", required = true, description = "The lost shard.")
        String shard;

        @Option(names = "--with", required = true, description = "The registered, empty shard the restore was written into.")
        String replacement;

        @Override
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.replaceShard(shard, replacement);
        }
    }

    @Command(name = "add-standby", mixinStandardHelpOptions = true,
        description = "Give a shard a standby: an empty MongoDB seeded from it and kept up to date from its CDC topics, promoted when the shard is DOWN.")
    public static final class AddStandbyVerb extends PublishingCommand {
        @Option(names = "--shard", required = true, description = "The shard.")
        String shard;

        @Option(names = "--uri", required = true, description = "mongodb:// URI of the standby, empty of the shard's databases.")
        String uri;

        @Override
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.addStandby(shard, uri);
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true,
        description = "Roll a migration back: before its cutover the target copy is dropped; within the grace period the source owns the range again.")
    public static final class Rollback extends PublishingCommand {
        @Option(names = "--migration", required = true, description = "Migration id, as `migrations` prints it.")
        String migration;

        @Override
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.rollback(migration);
        }
    }

    @Command(name = "abort", mixinStandardHelpOptions = true, description = "Abort a migration before its cutover; the source stays untouched.")
    public static final class Abort extends PublishingCommand {
        @Option(names = "--migration", required = true, description = "Migration id, as `migrations` prints it.")
        String migration;

        @Override
        protected CommandPlanner.Planned plan(CommandPlanner planner) {
            return planner.abort(migration);
        }
    }
}
