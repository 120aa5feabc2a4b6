package io.shardline.topology.balancer.policy;

import static io.shardline.topology.balancer.policy.PolicyFixtures.NOW;
import static io.shardline.topology.balancer.policy.PolicyFixtures.cluster;
import static io.shardline.topology.balancer.policy.PolicyFixtures.loadSplitChunk;
import static io.shardline.topology.balancer.policy.PolicyFixtures.shard;
import static io.shardline.topology.balancer.policy.PolicyFixtures.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.avro.ShardState;

class MergePolicyTest {

    private final MergePolicy policy = new MergePolicy(1, 0.1);

    private static Optional<Decision.Merge> decide(MergePolicy policy, ClusterSnapshot cluster, String shard) {
        return policy.decide(view(cluster, shard), cluster);
    }

    @Test
    void shouldMergeAnIdleShardIntoTheShardThatStaysLeastUsedAfterwards() {
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.05).idle(), shard("s2").storage(0.1), shard("s3").storage(0.15));

        Decision.Merge merge = decide(policy, cluster, "s1").orElseThrow();

        assertThat(merge.target().id()).isEqualTo("s2");
        assertThat(merge.storageRatioAfter()).isCloseTo(0.15, within(1e-9));
        assertThat(merge.loadRatioAfter()).isZero();
    }

    @Test
    void shouldMergeAShardHoldingPinnedChunksOnlyIntoAShardOfTheirZone() {
        ClusterSnapshot plain = cluster(shard("s1").storage(0.05).idle(), shard("s2").storage(0.15), shard("s3").storage(0.1));
        String s1Key = view(plain, "s1").chunks().get(0).minHex();
        ClusterSnapshot zoned = PolicyFixtures.zoned(plain, java.util.Map.of("eu", List.of("s1", "s2")), List.of(PolicyFixtures.zoneRange("eu", s1Key, null)));
        ClusterSnapshot alone = PolicyFixtures.zoned(plain, java.util.Map.of("eu", List.of("s1")), List.of(PolicyFixtures.zoneRange("eu", s1Key, null)));

        assertThat(decide(policy, plain, "s1").orElseThrow().target().id()).isEqualTo("s3");
        assertThat(decide(policy, zoned, "s1").orElseThrow().target().id()).as("s3 is not in zone eu").isEqualTo("s2");
        assertThat(decide(policy, alone, "s1")).as("no other shard of zone eu").isEmpty();
    }

    @Test
    void shouldNotMergeBeforeTheShardWasIdleForTheSustainedWindows() {
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.05).mergeStreak(2), shard("s2").storage(0.1));

        assertThat(decide(policy, cluster, "s1")).isEmpty();
    }

    @Test
    void shouldNotMergeWhenTheTargetWouldEndUpOverHalfItsSplitThresholds() {
        ClusterSnapshot storage = cluster(shard("s1").storage(0.15).idle(), shard("s2").storage(0.3), shard("s3").storage(0.3));
        ClusterSnapshot load = cluster(shard("s1").storage(0.05).load(0.1).idle(), shard("s2").storage(0.1).load(0.3));

        assertThat(decide(policy, storage, "s1")).as("45% storage > 40%").isEmpty();
        assertThat(decide(policy, load, "s1")).as("40% load > 35%").isEmpty();
    }

    @Test
    void shouldNeverMergeBelowTheMinimumNumberOfActiveShards() {
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.05).idle(), shard("s2").storage(0.1), shard("s3").storage(0.1));

        assertThat(decide(new MergePolicy(3, 0.1), cluster, "s1")).isEmpty();
        assertThat(decide(new MergePolicy(2, 0.1), cluster, "s1")).isPresent();
    }

    @Test
    void shouldNotMergeAShardHoldingAChunkSplitByLoadBeforeItsMinimumAge() {
        long tenMinutes = Duration.ofMinutes(10).toMillis();
        ClusterSnapshot young = cluster(shard("s1").storage(0.05).idle().chunks(loadSplitChunk("s1", "10", 50, NOW - tenMinutes / 2)),
            shard("s2").storage(0.1));
        ClusterSnapshot old = cluster(shard("s1").storage(0.05).idle().chunks(loadSplitChunk("s1", "10", 50, NOW - tenMinutes)),
            shard("s2").storage(0.1));

        assertThat(decide(policy, young, "s1")).isEmpty();
        assertThat(decide(policy, old, "s1")).isPresent();
    }

    @Test
    void shouldNotMergeAShardThatOwnsNothing() {
        ShardView empty = new ShardView("s1", ShardState.ACTIVE, 1_000, 100, 0, 0, 0, 0, 0, true, true, 0, 3, 0, List.of(),
            shard("s1").view().thresholds());
        ClusterSnapshot cluster = ClusterSnapshot.of(NOW, List.of(empty, shard("s2").storage(0.1).view()), Set.of(), 0);

        assertThat(policy.decide(empty, cluster)).isEmpty();
    }

    @Test
    void shouldNotMergeIntoABusyShardNorOneMergedAwayInTheSameWindow() {
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.05).idle(), shard("s2").storage(0.1), shard("s3").storage(0.12));
        ClusterSnapshot s2Busy = new ClusterSnapshot(NOW, cluster.shards(), Set.of("s2"), 1, Set.of());
        ClusterSnapshot s2Draining = new ClusterSnapshot(NOW, cluster.shards(), Set.of(), 1, Set.of("s2"));

        assertThat(decide(policy, s2Busy, "s1").orElseThrow().target().id()).isEqualTo("s3");
        assertThat(decide(policy, s2Draining, "s1").orElseThrow().target().id()).isEqualTo("s3");
    }

    // ---------------------------------------------------------------- headroom

    @Test
    void shouldRefuseAMergeThatLeavesAShardNearItsSplitThresholdWithoutATargetOfItsOwn() {
        // s3 holds 75% of its storage, within 10% of its 80% threshold: it will split soon and needs a shard to take half.
        ClusterSnapshot growing = cluster(shard("s1").storage(0.05).idle(), shard("s2").storage(0.1), shard("s3").storage(0.75));

        assertThat(decide(policy, growing, "s1")).as("only s1 and s2, the merge's own shards, could take s3's half").isEmpty();
    }

    @Test
    void shouldAllowTheMergeOnceTheClusterHasHeadroom() {
        ClusterSnapshot calm = cluster(shard("s1").storage(0.05).idle(), shard("s2").storage(0.1), shard("s3").storage(0.6));
        ClusterSnapshot spare = cluster(shard("s1").storage(0.05).idle(), shard("s2").storage(0.1), shard("s3").storage(0.75),
            shard("s4").storage(0.3));

        assertThat(decide(policy, calm, "s1")).as("no shard near its split thresholds").isPresent();
        assertThat(decide(policy, spare, "s1").orElseThrow().target().id()).as("s4 is left for s3").isEqualTo("s2");
    }

    @Test
    void shouldCountAShardNearItsLoadThresholdAsWellAsItsStorageThreshold() {
        ClusterSnapshot busyReads = cluster(shard("s1").storage(0.05).idle(), shard("s2").storage(0.1), shard("s3").storage(0.3).load(0.65));

        assertThat(decide(policy, busyReads, "s1")).as("65% load is within 10% of 70%").isEmpty();
    }

    @Test
    void shouldCountEveryShardNearItsThresholdsAgainstTheSpareOnes() {
        ClusterSnapshot twoGrowing = cluster(shard("s1").storage(0.05).idle(), shard("s2").storage(0.1), shard("s3").storage(0.75),
            shard("s4").storage(0.78), shard("s5").storage(0.3));

        assertThat(decide(policy, twoGrowing, "s1")).as("s5 alone cannot take halves of both s3 and s4").isEmpty();
    }

    @Test
    void shouldJudgeNearnessByTheHeadroomItIsGiven() {
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.05).idle(), shard("s2").storage(0.1), shard("s3").storage(0.7));

        assertThat(decide(new MergePolicy(1, 0.1), cluster, "s1")).as("70% is not within 10% of 80%").isPresent();
        assertThat(decide(new MergePolicy(1, 0.25), cluster, "s1")).as("70% is within 25% of 80%").isEmpty();
    }

    @Test
    void shouldRejectAHeadroomThatCannotWork() {
        assertThatThrownBy(() -> new MergePolicy(1, 1.0)).hasMessageContaining("headroom");
        assertThatThrownBy(() -> new MergePolicy(1, -0.1)).hasMessageContaining("headroom");
        assertThatThrownBy(() -> new MergePolicy(0, 0.1)).hasMessageContaining("minActiveShards");
    }
}
