package io.shardline.shard;

import java.net.InetSocketAddress;

import io.shardline.shard.internal.ShardBackend;
import io.shardline.shard.internal.ShardServer;

/**
 * A MongoDB shard in the JVM: mongo-java-server's in-memory backend, answering as the primary of a
 * one-member replica set, with an oplog that serves faithful change streams (resume tokens, post-images,
 * update descriptions, bounded retention). It is the default shard when no MongoDB is given, and what
 * Debezium's MongoDB connector streams from in the embedded cluster.
 */
public final class EmbeddedShard implements AutoCloseable {

    private final String shardId;
    private final EmbeddedShardConfig config;
    private final ShardBackend backend;
    private final InetSocketAddress address;
    /** The server answering on the shard's address; null during an outage. Guarded by {@code this}. */
    private ShardServer server;

    private EmbeddedShard(String shardId, EmbeddedShardConfig config) {
        this.shardId = shardId;
        this.config = config;
        this.backend = new ShardBackend(config.replicaSetName(), config.oplogRetentionEntries(), config.defaultAwaitTime(),
            config.serviceTime());
        this.server = new ShardServer(backend);
        this.address = server.bind(config.host(), config.port());
        backend.announce(address.getHostString() + ":" + address.getPort());
    }

    /** Starts a shard and binds it; the returned shard is ready for clients. */
    public static EmbeddedShard start(String shardId, EmbeddedShardConfig config) {
        return new EmbeddedShard(shardId, config);
    }

    public static EmbeddedShard start(String shardId) {
        return start(shardId, EmbeddedShardConfig.defaults(shardId));
    }

    public String shardId() {
        return shardId;
    }

    public String replicaSetName() {
        return config.replicaSetName();
    }

    public int port() {
        return address.getPort();
    }

    /** URI for drivers and Debezium: the member's address and its replica set. */
    public String connectionString() {
        return "mongodb://" + address.getHostString() + ":" + address.getPort() + "/?replicaSet=" + config.replicaSetName();
    }

    /** Number of change events the oplog holds now (at most the configured retention). */
    public long oplogSize() {
        return backend.oplog().size();
    }

    /**
     * Stops answering, as a shard whose host or network failed does: the address refuses connections and open ones are
     * closed; the data, the oplog and the address are kept for {@link #answerAgain}.
     */
    public synchronized void stopAnswering() {
        if (server != null) {
            server.shutdown();
            server = null;
        }
    }

    /** Answers again on the same address, with the data and oplog it had when it stopped. */
    public synchronized void answerAgain() {
        if (server == null) {
            ShardServer restarted = new ShardServer(backend);
            restarted.bind(address.getHostString(), address.getPort());
            server = restarted;
        }
    }

    @Override
    public synchronized void close() {
        stopAnswering();
        backend.close();
    }

    @Override
    public String toString() {
        return "EmbeddedShard[" + shardId + " at " + connectionString() + "]";
    }
}
