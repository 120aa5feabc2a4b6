package io.shardline.embedded;

import io.shardline.schemas.ConnectRestClient;
import java.util.HashMap;
import java.util.Map;

import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.connect.cli.ConnectDistributed;
import org.apache.kafka.connect.runtime.Connect;
import org.apache.kafka.connect.runtime.distributed.DistributedHerder;

import io.shardline.embedded.internal.FreePorts;

/**
 * A real Kafka Connect worker in distributed mode in this JVM, with its REST API on a free loopback port.
 * Plugins (Debezium's MongoDB connector) are found on the class path through the service loader.
 */
public final class EmbeddedConnect implements AutoCloseable {

    private final Connect<DistributedHerder> connect;
    private final String url;

    private EmbeddedConnect(Connect<DistributedHerder> connect, String url) {
        this.connect = connect;
        this.url = url;
    }

    /**
     * @param groupId     Connect group; workers of one group share connectors and the three storage topics
     * @param topicPrefix prefix of the storage topics ({@code <prefix>connect-offsets}, ...)
     */
    public static EmbeddedConnect start(String bootstrapServers, String groupId, String topicPrefix) {
        int port = FreePorts.next();
        Map<String, String> props = new HashMap<>();
        props.put("bootstrap.servers", bootstrapServers);
        props.put("group.id", groupId);
        props.put("listeners", "http://127.0.0.1:" + port);
        props.put("rest.advertised.host.name", "127.0.0.1");
        props.put("key.converter", "org.apache.kafka.connect.json.JsonConverter");
        props.put("value.converter", "org.apache.kafka.connect.json.JsonConverter");
        props.put("key.converter.schemas.enable", "false");
        props.put("value.converter.schemas.enable", "false");
        props.put("offset.storage.topic", topicPrefix + "connect-offsets");
        props.put("config.storage.topic", topicPrefix + "connect-configs");
        props.put("status.storage.topic", topicPrefix + "connect-status");
        props.put("offset.storage.replication.factor", "1");
        props.put("config.storage.replication.factor", "1");
        props.put("status.storage.replication.factor", "1");
        props.put("offset.storage.partitions", "1");
        props.put("status.storage.partitions", "1");
        props.put("offset.flush.interval.ms", "1000");
        props.put("scheduled.rebalance.max.delay.ms", "0");
        // Stopping a CDC task whose shard died waits on the driver's server selection; the worker's other connector
        // changes queue behind that stop. A failover stops the dead shard's connector and starts one on its standby:
        // at the default of 5 s the second waited ~4 s.
        props.put("task.shutdown.graceful.timeout.ms", "1000");
        props.put("plugin.discovery", "service_load");
        // A failing start must surface as an exception here, not end the JVM.
        Exit.setExitProcedure((status, message) -> {
            throw new IllegalStateException("Kafka Connect failed to start (" + status + "): " + message);
        });
        ClassLoader caller = Thread.currentThread().getContextClassLoader();
        try {
            Connect<DistributedHerder> connect = new ConnectDistributed().startConnect(props);
            return new EmbeddedConnect(connect, "http://127.0.0.1:" + port);
        } finally {
            Thread.currentThread().setContextClassLoader(caller);
            Exit.resetExitProcedure();
        }
    }

    /** Base URL of the REST API. */
    public String url() {
        return url;
    }

    public ConnectRestClient rest() {
        return new ConnectRestClient(url);
    }

    @Override
    public void close() {
        connect.stop();
        connect.awaitStop();
    }
}
