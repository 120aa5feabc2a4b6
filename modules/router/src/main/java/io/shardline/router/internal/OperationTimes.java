package io.shardline.router.internal;

import java.util.Set;

import org.bson.BsonValue;

import com.mongodb.event.CommandListener;
import com.mongodb.event.CommandSucceededEvent;

/**
 * The cluster time of the writes this thread made on a shard: a listener on every shard client that keeps, per thread,
 * the latest {@code operationTime} a write command's reply carried since {@link #start()} (a replica set member and
 * the embedded shard answer a write with its own optime). The synchronous driver runs a command and its listeners on
 * the calling thread, so a request reads the times of its own writes.
 */
public final class OperationTimes implements CommandListener {

    private static final Set<String> WRITES = Set.of("insert", "update", "delete", "findAndModify", "findandmodify");

    private final ThreadLocal<long[]> latest = ThreadLocal.withInitial(() -> new long[1]);

    /** Starts a write on this thread: {@link #latest()} answers for the commands it sends from now on. */
    public void start() {
        latest.get()[0] = 0;
    }

    /** The latest cluster time (a {@code BsonTimestamp}'s value) of a write reply since {@link #start()}; 0 for none. */
    public long latest() {
        return latest.get()[0];
    }

    @Override
    public void commandSucceeded(CommandSucceededEvent event) {
        if (!WRITES.contains(event.getCommandName())) {
            return;
        }
        BsonValue time = event.getResponse().get("operationTime");
        if (time != null && time.isTimestamp()) {
            long[] held = latest.get();
            held[0] = Math.max(held[0], time.asTimestamp().getValue());
        }
    }
}
