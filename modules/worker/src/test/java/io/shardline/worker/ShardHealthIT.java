package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.TopicTable;
import io.shardline.controlplane.TopicTail;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.schemas.avro.ShardHealth;
import io.shardline.schemas.avro.ShardState;
import io.shardline.shard.EmbeddedShard;
import io.shardline.shard.EmbeddedShardConfig;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;
import io.shardline.worker.config.HealthSettings;

/**
 * The worker holding the commands watches the shards: a shard stopped is marked DOWN on its descriptor with a
 * {@code SHARD_DOWN} event naming the cause, no sooner than its down-after period; started again on the same address it
 * is marked UP after the up-after period. Shards that keep answering are left alone.
 */
@ShardlineCluster
class ShardHealthIT {

    private static final HealthSettings SETTINGS = new HealthSettings(Duration.ofMillis(200), Duration.ofMillis(800), Duration.ofSeconds(2));

    @Test
    void shouldMarkAStoppedShardDownAndUpAgainWhenItAnswers(EmbeddedCluster cluster, TestNames names) throws Exception {
        String id = "h" + Long.toHexString(System.nanoTime() & 0xffffff);
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        EmbeddedShardConfig config = EmbeddedShardConfig.defaults(id).withPort(port);
        EmbeddedShard shard = EmbeddedShard.start(id, config);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5));
             TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), false, fixture.catalog.controlDlq().name(), "test");
             TopicTable<ShardDescriptor> shards = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.shards(), fixture.catalog.controlDlq().name(), "test");
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withHealth(SETTINGS), meters)) {
            fixture.publisher.publishShard(ShardDescriptor.newBuilder().setShardId(id).setConnectionString(shard.connectionString())
                .setCapacityBytes(1L << 30).setCapacityOpsPerSec(10_000).setState(ShardState.ACTIVE).setVersion(1).setUpdatedAt(Instant.now()).build());
            awaitGauge(meters, id, 1.0);
            Thread.sleep(SETTINGS.downAfter().toMillis() * 2);
            assertThat(shards.refresh().get(id).getHealth()).as("a shard answering its probes").isEqualTo(ShardHealth.UP);

            long stopped = System.nanoTime();
            shard.close();
            ShardEvent down = awaitEvent(events, ShardEventType.SHARD_DOWN, id);
            long detected = System.nanoTime() - stopped;
            ShardDescriptor marked = shards.refresh().get(id);
            System.out.printf("SHARD_DOWN %d ms after the shard stopped (down-after %d ms, probes every %d ms)%n", detected / 1_000_000,
                SETTINGS.downAfter().toMillis(), SETTINGS.interval().toMillis());

            shard = EmbeddedShard.start(id, config);
            long restarted = System.nanoTime();
            ShardEvent up = awaitEvent(events, ShardEventType.SHARD_UP, id);
            long back = System.nanoTime() - restarted;
            ShardDescriptor again = shards.refresh().get(id);

            assertThat(Duration.ofNanos(detected)).as("not before the down-after period").isGreaterThanOrEqualTo(SETTINGS.downAfter().minus(SETTINGS.interval()));
            assertThat(down.getReason()).contains("shard " + id + " is DOWN", "no answer for");
            assertThat(down.getFigures().get("unseenMillis")).isGreaterThanOrEqualTo((double) SETTINGS.downAfter().toMillis());
            assertThat(marked.getHealth()).isEqualTo(ShardHealth.DOWN);
            assertThat(marked.getHealthCause()).contains("no answer for");
            assertThat(marked.getVersion()).isEqualTo(2);
            assertThat(marked.getState()).as("its lifecycle untouched").isEqualTo(ShardState.ACTIVE);
            assertThat(Duration.ofNanos(back)).as("not before the up-after period").isGreaterThanOrEqualTo(SETTINGS.upAfter());
            assertThat(up.getReason()).contains("is UP again");
            assertThat(again.getHealth()).isEqualTo(ShardHealth.UP);
            assertThat(again.getHealthCause()).isNull();
            assertThat(again.getVersion()).isEqualTo(3);
            assertThat(shards.get("s1").getHealth()).as("a shard that kept answering").isEqualTo(ShardHealth.UP);
            assertThat(shards.get("s1").getVersion()).isEqualTo(1);
            assertThat(meters.get("shard.health.probe.failures").tag("shard", id).counter().count()).isPositive();
            assertThat(meters.get("shard.health.changes").tag("shard", id).tag("health", "DOWN").counter().count()).isEqualTo(1.0);
            // Set once the UP descriptor and its event are committed: a moment after the event can be read.
            awaitGauge(meters, id, 1.0);
        } finally {
            shard.close();
        }
    }

    private static void awaitGauge(SimpleMeterRegistry meters, String shard, double value) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            var gauge = meters.find("shard.healthy").tag("shard", shard).gauge();
            if (gauge != null && gauge.value() == value) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the worker never probed " + shard);
    }

    private static ShardEvent awaitEvent(TopicTail<ShardEvent> events, ShardEventType type, String shard) {
        List<ShardEvent> seen = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            for (TopicTail.Appended<ShardEvent> appended : events.poll(Duration.ofMillis(100))) {
                seen.add(appended.value());
                if (appended.value().getType() == type && shard.equals(appended.value().getShardId())) {
                    return appended.value();
                }
            }
        }
        throw new AssertionError("no " + type + " for " + shard + "; events seen: " + seen);
    }
}
