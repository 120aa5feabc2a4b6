package io.shardline.topology.balancer.policy;

import static io.shardline.topology.balancer.policy.PolicyFixtures.NOW;
import static io.shardline.topology.balancer.policy.PolicyFixtures.chunk;
import static io.shardline.topology.balancer.policy.PolicyFixtures.cluster;
import static io.shardline.topology.balancer.policy.PolicyFixtures.shard;
import static io.shardline.topology.balancer.policy.PolicyFixtures.unsplittableChunk;
import static io.shardline.topology.balancer.policy.PolicyFixtures.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.avro.ShardState;

class SplitPolicyTest {

    private static final SplitPoint NOT_SAMPLED = new SplitPoint(null, 0, 0, 0, 0);
    private static final SplitPoint ONE_KEY = new SplitPoint(null, 30, 1, 0, 30);

    private final Map<String, SplitPoint> points = new HashMap<>();
    private final List<String> asked = new ArrayList<>();
    private final SplitPolicy policy = new SplitPolicy((chunk, owner, byWrites) -> {
        asked.add(chunk.minHex() + (byWrites ? " by writes" : " by documents") + " on " + owner);
        return points.getOrDefault(chunk.key(), NOT_SAMPLED);
    }, new MovePolicy());

    private static SplitPoint median(String keyHex) {
        return new SplitPoint(keyHex, 40, 40, 20, 40);
    }

    @Test
    void shouldSplitTheBiggestChunkOfAShardOverItsStorageThresholdIntoTheLeastUsedShard() {
        ChunkView small = chunk("s1", "10", "20", 200, 0);
        ChunkView big = chunk("s1", "20", null, 650, 0);
        points.put(big.key(), median("30"));
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.85).overloaded().chunks(small, big), shard("s2").storage(0.3),
            shard("s3").storage(0.1));

        List<Decision> decisions = policy.decide(view(cluster, "s1"), cluster);

        assertThat(decisions).hasSize(1);
        Decision.Split split = (Decision.Split) decisions.get(0);
        assertThat(split.chunk()).isEqualTo(big);
        assertThat(split.point().splitKeyHex()).isEqualTo("30");
        assertThat(split.target().id()).isEqualTo("s3");
        assertThat(split.byLoad()).isFalse();
        assertThat(asked).containsExactly("20 by documents on s1");
    }

    @Test
    void shouldSplitAChunkPinnedToAZoneOnlyIntoAShardOfThatZone() {
        ChunkView free = chunk("s1", "10", "20", 200, 0);
        ChunkView pinned = chunk("s1", "20", null, 650, 0);
        points.put(pinned.key(), median("30"));
        ClusterSnapshot cluster = PolicyFixtures.zoned(cluster(shard("s1").storage(0.85).overloaded().chunks(free, pinned), shard("s2").storage(0.3),
            shard("s3").storage(0.1)), Map.of("eu", List.of("s1", "s2")), List.of(PolicyFixtures.zoneRange("eu", "20", null)));

        Decision.Split split = (Decision.Split) policy.decide(view(cluster, "s1"), cluster).get(0);

        assertThat(split.chunk()).isEqualTo(pinned);
        assertThat(split.target().id()).as("s3 is less used but not in zone eu").isEqualTo("s2");
    }

    @Test
    void shouldPassOverAChunkWhoseZoneHasNoOtherFreeShard() {
        ChunkView free = chunk("s1", "10", "20", 200, 0);
        ChunkView pinned = chunk("s1", "20", null, 650, 0);
        points.put(pinned.key(), median("30"));
        points.put(free.key(), median("18"));
        ClusterSnapshot cluster = PolicyFixtures.zoned(cluster(shard("s1").storage(0.85).overloaded().chunks(free, pinned), shard("s2").storage(0.3)),
            Map.of("eu", List.of("s1")), List.of(PolicyFixtures.zoneRange("eu", "20", null)));

        Decision.Split split = (Decision.Split) policy.decide(view(cluster, "s1"), cluster).get(0);

        assertThat(split.chunk()).as("the pinned chunk cannot leave s1").isEqualTo(free);
        assertThat(split.target().id()).isEqualTo("s2");
        assertThat(asked).containsExactly("10 by documents on s1");
    }

    @Test
    void shouldSplitTheBusiestChunkByWritesWhenOnlyTheLoadIsOverItsThreshold() {
        ChunkView quiet = chunk("s1", "10", "20", 500, 5);
        ChunkView busy = chunk("s1", "20", null, 100, 70);
        points.put(busy.key(), median("28"));
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.6).load(0.75).overloaded().chunks(quiet, busy), shard("s2").storage(0.2));

        Decision.Split split = (Decision.Split) policy.decide(view(cluster, "s1"), cluster).get(0);

        assertThat(split.byLoad()).isTrue();
        assertThat(split.chunk()).isEqualTo(busy);
        assertThat(asked).containsExactly("20 by writes on s1");
    }

    @Test
    void shouldNotSplitBeforeTheThresholdHeldForTheSustainedWindows() {
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.95).splitStreak(2), shard("s2").storage(0.1));
        points.put(view(cluster, "s1").chunks().get(0).key(), median("30"));

        assertThat(policy.decide(view(cluster, "s1"), cluster)).isEmpty();
    }

    @Test
    void shouldNotSplitIntoAShardThatIsOverItsOwnThresholdsBusyOrCoolingDown() {
        ClusterSnapshot crowded = cluster(shard("s1").storage(0.9).overloaded(), shard("s2").storage(0.85),
            shard("s3").storage(0.1).coolingDownUntil(NOW + 1), shard("s4").storage(0.1).state(ShardState.DRAINING));
        points.put(view(crowded, "s1").chunks().get(0).key(), median("30"));
        ClusterSnapshot busy = new ClusterSnapshot(NOW, cluster(shard("s1").storage(0.9).overloaded(), shard("s2").storage(0.1)).shards(),
            Set.of("s2"), 1, Set.of());

        assertThat(policy.decide(view(crowded, "s1"), crowded)).as("no shard can take the upper half").isEmpty();
        assertThat(policy.decide(view(busy, "s1"), busy)).as("the only other shard is migrating").isEmpty();
    }

    @Test
    void shouldNotDecideForAShardThatIsItselfBusy() {
        ClusterSnapshot cluster = new ClusterSnapshot(NOW, cluster(shard("s1").storage(0.9).overloaded(), shard("s2").storage(0.1)).shards(),
            Set.of("s1"), 1, Set.of());
        points.put(view(cluster, "s1").chunks().get(0).key(), median("30"));

        assertThat(policy.decide(view(cluster, "s1"), cluster)).isEmpty();
    }

    @Test
    void shouldWaitForASampleRatherThanGuessASplitPoint() {
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.9).overloaded(), shard("s2").storage(0.1));

        assertThat(policy.decide(view(cluster, "s1"), cluster)).isEmpty();
        assertThat(asked).hasSize(1);
    }

    @Test
    void shouldReportAOneKeyChunkAndSplitTheNextOne() {
        ChunkView hot = chunk("s1", "10", "20", 600, 0);
        ChunkView next = chunk("s1", "20", null, 300, 0);
        points.put(hot.key(), ONE_KEY);
        points.put(next.key(), median("28"));
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.9).overloaded().chunks(hot, next), shard("s2").storage(0.1));

        List<Decision> decisions = policy.decide(view(cluster, "s1"), cluster);

        assertThat(decisions).hasSize(2);
        Decision.Unsplittable reported = (Decision.Unsplittable) decisions.get(0);
        assertThat(reported.chunk()).isEqualTo(hot);
        assertThat(reported.sampledDocuments()).isEqualTo(30);
        assertThat(((Decision.Split) decisions.get(1)).chunk()).isEqualTo(next);
    }

    @Test
    void shouldNotReportAChunkAgainThatWasFoundUnsplittableAtItsRoutingVersion() {
        ChunkView known = unsplittableChunk("s1", "10", null, 900);
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.9).overloaded().chunks(known), shard("s2").storage(0.1));

        assertThat(policy.decide(view(cluster, "s1"), cluster)).isEmpty();
        assertThat(asked).as("the sample is not even read").isEmpty();
    }

    @Test
    void shouldLeaveItToTheMovePolicyWhenNoChunkCanBeSplit() {
        ChunkView hot = chunk("s1", "10", "20", 600, 0);
        ChunkView next = chunk("s1", "20", null, 300, 0);
        points.put(hot.key(), ONE_KEY);
        points.put(next.key(), ONE_KEY);
        ClusterSnapshot cluster = cluster(shard("s1").storage(0.9).overloaded().chunks(hot, next), shard("s2").storage(0.1));

        List<Decision> decisions = policy.decide(view(cluster, "s1"), cluster);

        assertThat(decisions).hasSize(3);
        assertThat(decisions.subList(0, 2)).allMatch(Decision.Unsplittable.class::isInstance);
        Decision.Move move = (Decision.Move) decisions.get(2);
        assertThat(move.chunk()).isEqualTo(next);
        assertThat(move.target().id()).isEqualTo("s2");
    }
}
