package io.shardline.worker.command;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;

/**
 * Which waiting migrations may start now, and in which lane: the rule of parallel migrations, as MongoDB's balancer
 * has it. A migration holds its two shards and its lane from its admission until its cutover (or its end); a shard
 * takes part in one such migration at a time, a lane carries one, and at most {@code maxParallel} run at once.
 * Waiting migrations are looked at oldest first, and one whose shards are busy is passed over for a later one whose
 * shards are free: a rebalance that planned moves between several pairs of shards runs them in rounds of disjoint
 * pairs (a drain's moves all leave one shard, so they run one after another).
 *
 * <p>Lanes are taken in bit-reversed order (with 8 lanes: 0, 4, 2, 6, 1, 5, 3, 7): the group's range assignment gives
 * each worker a contiguous block of lanes, so migrations admitted one after another land on different workers.
 */
final class Admission {

    /** A migration admitted to a lane. */
    record Admitted(MigrationState migration, int lane) {
    }

    private Admission() {
    }

    /**
     * True while a migration holds its shards: admitted, and neither cut over nor ended; or under way without a lane (a
     * migration carried out before lanes existed, whose states carry none).
     */
    static boolean holdsShards(MigrationState m) {
        return !MigrationPhases.ended(m) && m.getPhase().ordinal() < MigrationPhase.CUT_OVER.ordinal()
            && (m.getLane() >= 0 || m.getPhase() != MigrationPhase.PLANNED);
    }

    /** Waiting for a lane: not admitted, not ended. */
    static boolean waiting(MigrationState m) {
        return m.getLane() < 0 && !MigrationPhases.ended(m);
    }

    /**
     * @param migrations  every migration the migrations topic holds
     * @param lanes       the lanes there are (the migration-lanes topic's partitions)
     * @param maxParallel how many may hold their shards at once
     * @return the migrations to admit now, each with its lane, oldest first
     */
    static List<Admitted> next(Collection<MigrationState> migrations, int lanes, int maxParallel) {
        Set<String> busyShards = new HashSet<>();
        Set<Integer> busyLanes = new HashSet<>();
        int running = 0;
        for (MigrationState m : migrations) {
            if (holdsShards(m)) {
                busyShards.add(m.getSourceShardId());
                busyShards.add(m.getTargetShardId());
                if (m.getLane() >= 0) {
                    busyLanes.add(m.getLane());
                }
                running++;
            }
        }
        List<MigrationState> queue = migrations.stream().filter(Admission::waiting)
            .sorted(Comparator.comparing(MigrationState::getStartedAt).thenComparing(MigrationState::getMigrationId)).toList();
        List<Admitted> admitted = new ArrayList<>();
        // A migration under way without a lane already holds its shards (and is counted running): it goes on first,
        // in the first free lane, whatever the parallelism.
        for (MigrationState m : queue) {
            if (m.getPhase() != MigrationPhase.PLANNED) {
                int lane = freeLane(lanes, busyLanes);
                if (lane < 0) {
                    return admitted;
                }
                busyLanes.add(lane);
                admitted.add(new Admitted(m, lane));
            }
        }
        for (MigrationState m : queue.stream().filter(m -> m.getPhase() == MigrationPhase.PLANNED).toList()) {
            if (running >= maxParallel) {
                break;
            }
            if (busyShards.contains(m.getSourceShardId()) || busyShards.contains(m.getTargetShardId())) {
                continue;
            }
            int lane = freeLane(lanes, busyLanes);
            if (lane < 0) {
                break;
            }
            busyShards.add(m.getSourceShardId());
            busyShards.add(m.getTargetShardId());
            busyLanes.add(lane);
            running++;
            admitted.add(new Admitted(m, lane));
        }
        return admitted;
    }

    /** The first free lane in bit-reversed order, or -1. */
    static int freeLane(int lanes, Set<Integer> busy) {
        for (int lane : spreadOrder(lanes)) {
            if (!busy.contains(lane)) {
                return lane;
            }
        }
        return -1;
    }

    /** Lanes 0..lanes-1 ordered by their bit-reversed index: each next one as far as can be from those before it. */
    static List<Integer> spreadOrder(int lanes) {
        int bits = Math.max(1, 32 - Integer.numberOfLeadingZeros(Math.max(1, lanes - 1)));
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < 1 << bits; i++) {
            int reversed = Integer.reverse(i) >>> (32 - bits);
            if (reversed < lanes) {
                order.add(reversed);
            }
        }
        return order;
    }

    /**
     * How many rounds moves between these shard pairs take when each shard takes part in one move at a time and every
     * round starts, in order, each move whose shards are free (as {@link #next} admits them).
     */
    static int rounds(List<List<String>> pairs) {
        List<List<String>> left = new ArrayList<>(pairs);
        int rounds = 0;
        while (!left.isEmpty()) {
            Set<String> busy = new HashSet<>();
            left.removeIf(pair -> {
                if (busy.contains(pair.get(0)) || busy.contains(pair.get(1))) {
                    return false;
                }
                busy.addAll(pair);
                return true;
            });
            rounds++;
        }
        return rounds;
    }
}
