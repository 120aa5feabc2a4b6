package io.shardline.topology.balancer.policy;

import static io.shardline.topology.balancer.policy.PolicyFixtures.NOW;
import static io.shardline.topology.balancer.policy.PolicyFixtures.cluster;
import static io.shardline.topology.balancer.policy.PolicyFixtures.shard;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

class PlannerTest {

    private static Planner planner(int maxConcurrentMigrations) {
        SplitPoints median = (chunk, owner, byWrites) -> new SplitPoint("7f", 40, 40, 20, 40);
        return new Planner(maxConcurrentMigrations, new SplitPolicy(median, new MovePolicy()), new MergePolicy(1, 0.1));
    }

    private static List<String> summary(List<Decision> decisions) {
        return decisions.stream().map(decision -> decision.getClass().getSimpleName() + " " + decision.source().id()
            + (decision instanceof Decision.Command command ? " -> " + command.target().id() : "")).toList();
    }

    @Test
    void shouldSplitTheMostSevereShardFirstAndStopAtTheGlobalCap() {
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.85).overloaded(), shard("s2").storage(0.1),
            shard("s3").storage(0.95).overloaded(), shard("s4").storage(0.2));

        assertThat(summary(planner(1).plan(cluster))).containsExactly("Split s3 -> s2");
        assertThat(summary(planner(2).plan(cluster))).containsExactly("Split s3 -> s2", "Split s1 -> s4");
    }

    @Test
    void shouldCountTheMigrationsAlreadyInFlightAgainstTheCap() {
        ClusterSnapshot quiet = cluster(shard("s1").storage(0.85).overloaded(), shard("s2").storage(0.1), shard("s3").storage(0.1));
        ClusterSnapshot twoRunning = new ClusterSnapshot(NOW, quiet.shards(), Set.of(), 2, Set.of());

        assertThat(planner(2).plan(twoRunning)).isEmpty();
    }

    @Test
    void shouldNotMergeIntoOrOutOfAShardASplitOfTheSameWindowTookPartIn() {
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.85).overloaded(), shard("s2").storage(0.05).idle(),
            shard("s3").storage(0.1).idle(), shard("s4").storage(0.25));

        assertThat(summary(planner(2).plan(cluster))).containsExactly("Split s1 -> s2", "Merge s3 -> s4");
    }

    @Test
    void shouldMergeTheLeastUsedIdleShardFirstAndNotMergeItsTargetAway() {
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.08).idle(), shard("s2").storage(0.03).idle(), shard("s3").storage(0.1),
            shard("s4").storage(0.1));

        assertThat(summary(planner(2).plan(cluster))).as("s1, busy taking s2, stays").containsExactly("Merge s2 -> s1");
    }

    @Test
    void shouldDecideNothingForABalancedCluster() {
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.5), shard("s2").storage(0.4), shard("s3").storage(0.6).load(0.5));

        assertThat(planner(2).plan(cluster)).isEmpty();
    }
}
