package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.controlplane.TopicTable;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.avro.AddStandby;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.shard.EmbeddedShard;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;
import io.shardline.worker.config.HealthSettings;

/**
 * Random moves of random chunks between four shards under a write load with durability STANDBY, while the two shards
 * that have a standby are killed at random moments: each kill fails the shard over to its standby, and the killed
 * primary, once it answers again, is taken back as the new standby, to be killed in its turn. Whatever phase a kill
 * hits (copy, catch-up, fence, cutover, grace), every migration ends, every acknowledged write is where the routing
 * says, once, and none is lost. The seed is printed; {@code -Dshardline.failovers.seed=N} replays a run.
 */
@ShardlineCluster
class MigrationFailoversIT {

    private static final HealthSettings HEALTH = new HealthSettings(Duration.ofMillis(200), Duration.ofMillis(800), Duration.ofSeconds(1));

    /** One shard with a standby: which of the two servers is its primary now. */
    private static final class Pair {
        final String id;
        /** The server the cluster started, which it closes itself. */
        final EmbeddedShard original;
        EmbeddedShard primary;
        EmbeddedShard standby;
        EmbeddedShard killed;

        Pair(String id, EmbeddedShard primary, EmbeddedShard standby) {
            this.id = id;
            this.original = primary;
            this.primary = primary;
            this.standby = standby;
        }
    }

    @Test
    void shouldEndEveryMigrationAndLoseNoAcknowledgedWriteWhenShardsFailOverAtRandom(EmbeddedCluster cluster, TestNames names) throws Exception {
        long seed = Long.getLong("shardline.failovers.seed", System.nanoTime());
        Random random = new Random(seed);
        System.out.println("MigrationFailoversIT seed " + seed);
        String suffix = UUID.randomUUID().toString().substring(0, 6);
        List<Pair> pairs = new ArrayList<>();
        for (String id : List.of("fa" + suffix, "fb" + suffix)) {
            pairs.add(new Pair(id, cluster.addShard(id), EmbeddedShard.start(id + "-standby")));
        }
        List<String> shards = List.of("s1", "s2", pairs.get(0).id, pairs.get(1).id);
        List<String> history = new ArrayList<>();
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5), shards, List.of("s1", "s1", pairs.get(0).id, pairs.get(1).id));
             TopicTable<ShardDescriptor> descriptors = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.shards(), fixture.catalog.controlDlq().name(), "test");
             MigrationWorker worker = MigrationWorker.start(fixture.workerConfig().withHealth(HEALTH).withCopyBatchSize(100)
                 .withConnectUrl(cluster.connectUrl()), new SimpleMeterRegistry())) {
            for (Pair pair : pairs) {
                fixture.send(AddStandby.newBuilder().setShardId(pair.id).setConnectionString(pair.standby.connectionString()).build());
            }
            for (Pair pair : pairs) {
                FailoverIT.await(() -> pair.standby.connectionString().equals(descriptors.refresh().get(pair.id).getStandbyConnectionString()),
                    Duration.ofSeconds(90), "the standby of " + pair.id);
            }
            MigrationFixture.Load load = fixture.new Load(2, 2);
            Thread.sleep(1_000);
            List<String> commands = new ArrayList<>();
            int kills = 0;
            for (int round = 0; round < 8; round++) {
                commands.add(fixture.moveRandomChunk(random, shards, history));
                Thread.sleep(200 + random.nextInt(1_500));
                for (Pair pair : pairs) {
                    takeBack(pair, descriptors, history);
                }
                Pair pair = pairs.get(random.nextInt(pairs.size()));
                ShardDescriptor now = descriptors.refresh().get(pair.id);
                if (pair.killed == null && now.getStandbyConnectionString() != null && random.nextInt(3) > 0) {
                    pair.killed = pair.primary;
                    pair.primary.stopAnswering();
                    kills++;
                    history.add(pair.id + " killed (" + pair.primary.connectionString() + ")");
                }
            }
            for (Pair pair : pairs) {
                if (pair.killed != null) {
                    FailoverIT.await(() -> failedOver(pair, descriptors), Duration.ofSeconds(60), "the failover of " + pair.id);
                    takeBack(pair, descriptors, history);
                }
            }
            List<MigrationState> ended = fixture.awaitEnded(commands);
            int refused = commands.size() - ended.size();
            load.close();
            for (Pair pair : pairs) {
                fixture.repoint(pair.id, descriptors.refresh().get(pair.id).getConnectionString());
            }
            System.out.println("MigrationFailoversIT: " + ended.size() + " migrations, " + refused + " moves refused, " + kills + " kills");
            System.out.println("MigrationFailoversIT history: " + history);
            ended.forEach(m -> System.out.println("  " + m.getSourceShardId() + " -> " + m.getTargetShardId() + ": " + m.getPhase()
                + (m.getError() == null ? "" : " (" + m.getError() + ")")));

            assertThat(ended).as("every migration ended (seed %d, %s)", seed, history).isNotEmpty().allMatch(MigrationPhases::ended);
            fixture.check(load);
            assertThat(load.writes.get()).as("acknowledged writes").isGreaterThan(100);
        } finally {
            for (Pair pair : pairs) {
                FailoverIT.deleteFailoverConnectors(cluster, pair.id);
                cluster.removeShard(pair.id);
                (pair.primary == pair.original ? pair.standby : pair.primary).close();
            }
        }
    }

    private static boolean failedOver(Pair pair, TopicTable<ShardDescriptor> descriptors) {
        return pair.standby.connectionString().equals(descriptors.refresh().get(pair.id).getConnectionString());
    }

    /** A killed primary whose shard failed over answers again, to be taken back as the standby: the two swap roles. */
    private static void takeBack(Pair pair, TopicTable<ShardDescriptor> descriptors, List<String> history) {
        if (pair.killed != null && failedOver(pair, descriptors)) {
            pair.killed.answerAgain();
            EmbeddedShard promoted = pair.standby;
            pair.standby = pair.killed;
            pair.primary = promoted;
            pair.killed = null;
            history.add(pair.id + " failed over to " + promoted.connectionString() + "; the old primary answers again");
        }
    }
}
