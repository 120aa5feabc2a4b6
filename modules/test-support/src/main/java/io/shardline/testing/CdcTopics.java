package io.shardline.testing;

import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;

/** Waits on a shard's CDC topic (one partition) as tests need to. */
public final class CdcTopics {

    private static final Duration QUIET = Duration.ofSeconds(2);

    private CdcTopics() {
    }

    /**
     * Waits until the topic's end offset has not moved for two seconds, once the writes to its collection stopped:
     * every one of them is captured then. Returns that end offset.
     */
    public static long awaitSettled(String bootstrapServers, String topic) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            TopicPartition partition = new TopicPartition(topic, 0);
            long last = -1;
            long stableSince = System.nanoTime();
            while (System.nanoTime() - stableSince < QUIET.toNanos()) {
                long end = admin.listOffsets(Map.of(partition, OffsetSpec.latest())).partitionResult(partition).get().offset();
                if (end != last) {
                    last = end;
                    stableSince = System.nanoTime();
                }
                Thread.sleep(100);
            }
            return last;
        }
    }
}
