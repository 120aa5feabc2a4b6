package io.shardline.bench.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One step of a model sequence: an operator command, a fault, or a pause, applied while writers keep writing. Steps
 * name chunks and processes by index; the run resolves an index against what exists when the step runs, so any
 * subsequence of a sequence is itself a sequence (what shrinking needs).
 *
 * @param kind   what the step does
 * @param index  which chunk, worker or migration (taken modulo how many there are)
 * @param millis how long a pause or wait lasts
 */
public record ModelStep(Kind kind, int index, long millis) {

    /** What a step does. */
    public enum Kind {
        /** MoveChunk of a chunk to the other shard. */
        MOVE,
        /** SplitShard: the chunk split at its median on its shard, the upper half moved. */
        SPLIT,
        /** RollbackMigration of the latest migration that has not ended. */
        ROLLBACK,
        /** AbortMigration of the latest migration that has not ended. */
        ABORT,
        /** SIGKILL of a worker process. */
        KILL_WORKER,
        /** A new worker process joins the group. */
        START_WORKER,
        /** SIGSTOP of a worker process past the group's session timeout, then SIGCONT. */
        PAUSE_WORKER,
        /** SIGSTOP of the router process past its lease, then SIGCONT. */
        PAUSE_ROUTER,
        /** Nothing but the writers, for a while. */
        WAIT
    }

    public String describe() {
        return switch (kind) {
            case MOVE, SPLIT -> kind + " chunk#" + index;
            case ROLLBACK, ABORT, START_WORKER -> kind.toString();
            case KILL_WORKER -> kind + " worker#" + index;
            case PAUSE_WORKER -> kind + " worker#" + index + " " + millis + "ms";
            case PAUSE_ROUTER, WAIT -> kind + " " + millis + "ms";
        };
    }

    /** A sequence of {@code length} steps drawn from {@code seed}: the same seed gives the same sequence. */
    public static List<ModelStep> generate(long seed, int length) {
        Random random = new Random(seed);
        List<ModelStep> steps = new ArrayList<>();
        for (int i = 0; i < length; i++) {
            int roll = random.nextInt(100);
            Kind kind = roll < 24 ? Kind.MOVE : roll < 38 ? Kind.SPLIT : roll < 46 ? Kind.ROLLBACK : roll < 54 ? Kind.ABORT
                : roll < 64 ? Kind.KILL_WORKER : roll < 72 ? Kind.START_WORKER : roll < 82 ? Kind.PAUSE_WORKER : roll < 88 ? Kind.PAUSE_ROUTER
                : Kind.WAIT;
            long millis = switch (kind) {
                case PAUSE_WORKER -> 11_000 + random.nextInt(4_000);
                case PAUSE_ROUTER -> 3_000 + random.nextInt(3_000);
                case WAIT -> 500 + random.nextInt(4_000);
                default -> 300 + random.nextInt(1_500);
            };
            steps.add(new ModelStep(kind, random.nextInt(8), millis));
        }
        return steps;
    }
}
