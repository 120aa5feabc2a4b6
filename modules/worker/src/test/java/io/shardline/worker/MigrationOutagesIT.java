package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;
import io.shardline.worker.config.HealthSettings;

/**
 * Random moves of random chunks between four shards under a write load, while two of the shards stop answering at
 * random moments for random lengths of time (their data kept, as after a host or network failure): whatever phase an
 * outage hits, every migration ends, and every acknowledged write is where the routing says, once. The seed is printed;
 * {@code -Dshardline.outages.seed=N} replays a run.
 */
@ShardlineCluster
class MigrationOutagesIT {

    private static final HealthSettings HEALTH = new HealthSettings(Duration.ofMillis(200), Duration.ofMillis(800), Duration.ofSeconds(1));

    @Test
    void shouldEndEveryMigrationAndLoseNoWriteWhenShardsStopAnsweringAtRandom(EmbeddedCluster cluster, TestNames names) throws Exception {
        long seed = Long.getLong("shardline.outages.seed", System.nanoTime());
        Random random = new Random(seed);
        System.out.println("MigrationOutagesIT seed " + seed);
        String suffix = UUID.randomUUID().toString().substring(0, 6);
        List<String> flaky = List.of("oa" + suffix, "ob" + suffix);
        List<EmbeddedShard> flakyShards = new ArrayList<>();
        for (String id : flaky) {
            flakyShards.add(cluster.addShard(id));
        }
        List<String> shards = List.of("s1", "s2", flaky.get(0), flaky.get(1));
        List<String> history = new ArrayList<>();
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5), shards, List.of("s1", "s1", flaky.get(0), flaky.get(1)));
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withHealth(HEALTH).withCopyBatchSize(100), new SimpleMeterRegistry())) {
            MigrationFixture.Load load = fixture.new Load(2, 2);
            Thread.sleep(1_000);
            List<String> commands = new ArrayList<>();
            long outageEnds = 0;
            EmbeddedShard down = null;
            for (int round = 0; round < 8; round++) {
                commands.add(fixture.moveRandomChunk(random, shards, history));
                Thread.sleep(200 + random.nextInt(1_500));
                if (down != null && System.nanoTime() > outageEnds) {
                    down.answerAgain();
                    history.add("answers again");
                    down = null;
                }
                if (down == null && random.nextBoolean()) {
                    int which = random.nextInt(flaky.size());
                    down = flakyShards.get(which);
                    long millis = 500 + random.nextInt(5_000);
                    outageEnds = System.nanoTime() + Duration.ofMillis(millis).toNanos();
                    down.stopAnswering();
                    history.add(flaky.get(which) + " stops answering for " + millis + " ms");
                }
            }
            if (down != null) {
                Thread.sleep(Math.max(0, (outageEnds - System.nanoTime()) / 1_000_000));
                down.answerAgain();
                history.add("answers again");
            }
            List<MigrationState> ended = fixture.awaitEnded(commands);
            int refused = commands.size() - ended.size();
            System.out.println("MigrationOutagesIT: " + ended.size() + " migrations, " + refused + " moves refused");
            load.close();
            System.out.println("MigrationOutagesIT history: " + history);
            ended.forEach(m -> System.out.println("  " + m.getSourceShardId() + " -> " + m.getTargetShardId() + ": " + m.getPhase()
                + (m.getError() == null ? "" : " (" + m.getError() + ")")));

            assertThat(ended).as("every migration ended (seed %d, %s)", seed, history).isNotEmpty().allMatch(MigrationPhases::ended);
            fixture.check(load);
            assertThat(load.writes.get()).as("acknowledged writes").isGreaterThan(100);
        } finally {
            for (int i = 0; i < flaky.size(); i++) {
                flakyShards.get(i).answerAgain();
                cluster.removeShard(flaky.get(i));
            }
        }
    }
}
