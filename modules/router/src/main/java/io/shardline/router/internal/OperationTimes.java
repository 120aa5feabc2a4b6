package io.shardline.router.internal;

import java.util.Set;

import org.bson.BsonValue;

import com.mongodb.ServerAddress;
import com.mongodb.event.CommandListener;
import com.mongodb.event.CommandSucceededEvent;

/**
 * The cluster time of the writes this thread made on a shard: a listener on every shard client that keeps, per thread,
 * the latest {@code operationTime} a write command's reply carried since {@link #start()} (a replica set member and
 * the embedded shard answer a write with its own optime), and the server that answered it. The synchronous driver runs a
 * command and its listeners on the calling thread, so a request reads the times of its own writes.
 */
public final class OperationTimes implements CommandListener {

    private static final Set<String> WRITES = Set.of("insert", "update", "delete", "findAndModify", "findandmodify");

    /** The latest time and the server of that reply, of the current thread's write. */
    private static final class Latest {
        long time;
        ServerAddress server;
    }

    private final ThreadLocal<Latest> latest = ThreadLocal.withInitial(Latest::new);

    /** Starts a write on this thread: {@link #latest()} answers for the commands it sends from now on. */
    public void start() {
        Latest held = latest.get();
        held.time = 0;
        held.server = null;
    }

    /** The latest cluster time (a {@code BsonTimestamp}'s value) of a write reply since {@link #start()}; 0 for none. */
    public long latest() {
        return latest.get().time;
    }

    /** The server that answered with {@link #latest()}, {@code null} for none. */
    public ServerAddress server() {
        return latest.get().server;
    }

    @Override
    public void commandSucceeded(CommandSucceededEvent event) {
        if (!WRITES.contains(event.getCommandName())) {
            return;
        }
        BsonValue time = event.getResponse().get("operationTime");
        if (time != null && time.isTimestamp()) {
            Latest held = latest.get();
            if (Long.compareUnsigned(time.asTimestamp().getValue(), held.time) >= 0) {
                held.time = time.asTimestamp().getValue();
                held.server = event.getConnectionDescription().getServerAddress();
            }
        }
    }
}
