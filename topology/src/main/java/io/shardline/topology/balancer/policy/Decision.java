package io.shardline.topology.balancer.policy;

import java.util.Objects;

/**
 * What a policy decided for a window: a command to publish ({@link Split}, {@link Move}, {@link Merge}), or a chunk to
 * report once as unsplittable ({@link Unsplittable}).
 */
public sealed interface Decision {

    /** The shard the decision is about. */
    ShardView source();

    /** A decision carried out by a migration from {@link #source()} to {@link #target()}. */
    sealed interface Command extends Decision {
        ShardView target();
    }

    /**
     * Split {@code chunk} of an overloaded shard at {@code point} and move the upper half to {@code target}.
     *
     * @param byLoad the shard is over its load threshold only: the busiest chunk is split at its write-load median
     */
    record Split(ShardView source, ShardView target, ChunkView chunk, SplitPoint point, boolean byLoad) implements Command {
        public Split {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(chunk, "chunk");
            if (point == null || !point.splittable()) {
                throw new IllegalArgumentException("a split needs a split key, had " + point);
            }
        }
    }

    /** Move {@code chunk} of an overloaded shard, whole, to {@code target}: its top chunk cannot be split. */
    record Move(ShardView source, ShardView target, ChunkView chunk) implements Command {
        public Move {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(target, "target");
            Objects.requireNonNull(chunk, "chunk");
        }
    }

    /**
     * Merge an idle shard into {@code target}, which then holds {@code storageRatioAfter} of its storage capacity and
     * {@code loadRatioAfter} of its query capacity.
     */
    record Merge(ShardView source, ShardView target, double storageRatioAfter, double loadRatioAfter) implements Command {
        public Merge {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(target, "target");
        }
    }

    /** {@code chunk} of {@code source} holds a single shard key in {@code sampledDocuments} samples: no key divides it. */
    record Unsplittable(ShardView source, ChunkView chunk, int sampledDocuments) implements Decision {
        public Unsplittable {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(chunk, "chunk");
        }
    }
}
