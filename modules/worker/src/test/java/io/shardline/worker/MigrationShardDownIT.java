package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.TopicTail;
import io.shardline.core.key.KeyHex;
import io.shardline.core.routing.Chunk;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.MoveChunk;
import io.shardline.schemas.avro.ShardEvent;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;
import io.shardline.worker.config.HealthSettings;

/**
 * A migration whose target stops answering mid-way (during the copy, during the catch-up) waits for it, stalled with
 * one {@code MIGRATION_STALLED} event, instead of failing against it over and over; once the shard answers again and is
 * UP the migration goes on from its state and ends, or ends ABORTED with the source intact. No acknowledged write is
 * lost either way.
 */
@ShardlineCluster
class MigrationShardDownIT {

    private static final HealthSettings HEALTH = new HealthSettings(Duration.ofMillis(200), Duration.ofMillis(800), Duration.ofSeconds(1));
    private static final Duration OUTAGE = Duration.ofSeconds(6);

    @Test
    void shouldWaitForATargetThatStopsAnsweringDuringTheCopy(EmbeddedCluster cluster, TestNames names) throws Exception {
        moveWhileTheTargetStopsIn(MigrationPhase.COPYING, cluster, names);
    }

    @Test
    void shouldWaitForATargetThatStopsAnsweringDuringTheCatchUp(EmbeddedCluster cluster, TestNames names) throws Exception {
        moveWhileTheTargetStopsIn(MigrationPhase.CATCHING_UP, cluster, names);
    }

    private static void moveWhileTheTargetStopsIn(MigrationPhase phase, EmbeddedCluster cluster, TestNames names) throws Exception {
        String target = "t" + Long.toHexString(System.nanoTime() & 0xffffff);
        try (EmbeddedShard shard = EmbeddedShard.start(target);
             MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5), List.of("s1", "s2"), List.of("s1", "s1"));
             TopicTail<ShardEvent> events = new TopicTail<>(cluster.bootstrapServers(), fixture.catalog.events(), false, fixture.catalog.controlDlq().name(), "test")) {
            fixture.registerShard(target, shard.connectionString());
            for (int i = 0; i < 2_000; i++) {
                fixture.router.insert(MigrationFixture.TENANT, fixture.namespace, List.of(new Document("_id", "p" + i).append("userId", "p" + i).append("v", 0)));
            }
            MigrationFixture.Load load = fixture.new Load(2, 2);
            for (int i = 0; i < 2_000; i++) {
                load.acknowledged.put("p" + i, 0);
            }
            AtomicBoolean stopped = new AtomicBoolean();
            CompletableFuture<Void> outage = new CompletableFuture<>();
            try (MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withHealth(HEALTH).withCopyBatchSize(50).withCopyStreams(1),
                new SimpleMeterRegistry(), state -> {
                    if (state.getPhase() == phase && stopped.compareAndSet(false, true)) {
                        shard.stopAnswering();
                        CompletableFuture.runAsync(() -> {
                            try {
                                Thread.sleep(OUTAGE.toMillis());
                                shard.answerAgain();
                                outage.complete(null);
                            } catch (InterruptedException | RuntimeException e) {
                                outage.completeExceptionally(e);
                            }
                        });
                    }
                })) {
                Chunk lower = fixture.chunks.get(0);
                String command = fixture.send(MoveChunk.newBuilder().setNamespace(fixture.namespace).setChunkMin(KeyHex.bytes(lower.min().toHex()))
                    .setTargetShardId(target).build());
                MigrationState end = fixture.awaitMigration(command, m -> m.getPhase() == MigrationPhase.CLEANED || m.getPhase() == MigrationPhase.ABORTED
                    || m.getPhase() == MigrationPhase.ROLLED_BACK, Duration.ofMinutes(3));
                outage.get();
                load.close();

                List<ShardEvent> seen = new ArrayList<>();
                events.readToEnd().forEach(appended -> seen.add(appended.value()));
                List<ShardEvent> stalls = seen.stream().filter(e -> e.getType() == ShardEventType.MIGRATION_STALLED
                    && end.getMigrationId().equals(e.getMigrationId())).toList();
                long failures = seen.stream().filter(e -> e.getType() == ShardEventType.MIGRATION_FAILED && end.getMigrationId().equals(e.getMigrationId())).count();
                System.out.printf("target stopped in %s for %d s: the migration ended %s after %d failed steps and %d stall events%n", phase,
                    OUTAGE.toSeconds(), end.getPhase(), failures, stalls.size());

                assertThat(stopped).as("the target stopped in " + phase).isTrue();
                assertThat(seen).as("the target marked DOWN and UP again").anyMatch(e -> e.getType() == ShardEventType.SHARD_DOWN && target.equals(e.getShardId()))
                    .anyMatch(e -> e.getType() == ShardEventType.SHARD_UP && target.equals(e.getShardId()));
                assertThat(stalls).as("the migration waited for its target").isNotEmpty()
                    .allMatch(e -> e.getReason().contains("shard " + target + " is DOWN"));
                assertThat(failures).as("failed steps against a DOWN shard, over a %d s outage", OUTAGE.toSeconds()).isLessThanOrEqualTo(3);
                assertThat(end.getPhase()).isIn(MigrationPhase.CLEANED, MigrationPhase.ABORTED);
                fixture.check(load);
                assertThat(load.writes.get()).as("acknowledged writes").isPositive();
            }
        }
    }
}
