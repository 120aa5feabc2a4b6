package io.shardline.embedded.internal;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Set;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Tells when a Debezium MongoDB connector running in this JVM has finished its snapshot and streams. A connector
 * whose task is RUNNING may still be snapshotting; a document written then is both read by the snapshot and
 * streamed, so the embedded cluster is reported ready only once every connector streams.
 */
public final class DebeziumStreaming {

    private DebeziumStreaming() {
    }

    /** Waits until the streaming metrics of the connector with the given {@code topic.prefix} say connected. */
    public static void await(String topicPrefix, Duration timeout) throws InterruptedException {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (connected(server, topicPrefix)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("Debezium connector " + topicPrefix + " did not start streaming within " + timeout);
    }

    private static boolean connected(MBeanServer server, String topicPrefix) {
        try {
            Set<ObjectName> names = server.queryNames(new ObjectName(
                "debezium.mongodb:type=connector-metrics,context=streaming,server=" + ObjectName.quote(topicPrefix) + ",*"), null);
            if (names.isEmpty()) {
                names = server.queryNames(new ObjectName(
                    "debezium.mongodb:type=connector-metrics,context=streaming,server=" + topicPrefix + ",*"), null);
            }
            for (ObjectName name : names) {
                if (Boolean.TRUE.equals(server.getAttribute(name, "Connected"))) {
                    return true;
                }
            }
            return false;
        } catch (JMException e) {
            throw new IllegalStateException("cannot read Debezium's streaming metrics for " + topicPrefix, e);
        }
    }
}
