package io.shardline.worker.migration;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class FencePolicyTest {

    /** Budget 500 ms, hard bound 3 s, retry back-off 300 ms; the replay starts estimated at 1,000 changes a second. */
    private final FencePolicy policy = new FencePolicy(Duration.ofMillis(500), Duration.ofSeconds(3), Duration.ofMillis(300));

    @Test
    void shouldOnlyReplayWhileThePredictedDrainDoesNotFitTheBudget() {
        assertThat(policy.predictedMillis(600)).isEqualTo(600);
        assertThat(policy.next(600, false, false, 0)).isEqualTo(FencePolicy.Next.REPLAY);
        assertThat(policy.next(499, false, false, 0)).isEqualTo(FencePolicy.Next.PROBE);
    }

    @Test
    void shouldMeasureTheReplayRateAsAMovingAverage() {
        for (int i = 0; i < 30; i++) {
            policy.replayed(100, 1.0); // 100 changes a second
        }
        assertThat(policy.predictedMillis(100)).isBetween(990L, 1_010L);
        assertThat(policy.next(100, false, false, 0)).isEqualTo(FencePolicy.Next.REPLAY);
        policy.replayed(0, 5.0);
        assertThat(policy.predictedMillis(100)).as("a poll that applied nothing does not change the rate").isBetween(990L, 1_010L);
    }

    @Test
    void shouldPreCheckALargeRangeOnceBeforeAnyProbe() {
        assertThat(policy.next(10, true, false, 0)).isEqualTo(FencePolicy.Next.PRE_CHECK);
        assertThat(policy.next(10, true, true, 0)).isEqualTo(FencePolicy.Next.PROBE);
        assertThat(policy.next(10, false, false, 0)).isEqualTo(FencePolicy.Next.PROBE);
        assertThat(policy.next(10_000, true, false, 0)).as("not before the drain fits").isEqualTo(FencePolicy.Next.REPLAY);
    }

    @Test
    void shouldFenceAfterAProbeWithinTheBudgetAndBackOffAfterOneOverIt() {
        assertThat(policy.fenceAfterProbe(true, 120, 1_000)).isTrue();
        assertThat(policy.fenceAfterProbe(true, 700, 1_000)).isFalse();
        assertThat(policy.next(10, false, false, 1_299)).as("backs off for the probe's length, at most the retry back-off").isEqualTo(FencePolicy.Next.REPLAY);
        assertThat(policy.next(10, false, false, 1_300)).isEqualTo(FencePolicy.Next.PROBE);
        assertThat(policy.fenceAfterProbe(false, 50, 2_000)).as("a marker that did not come back").isFalse();
        assertThat(policy.next(10, false, false, 2_049)).isEqualTo(FencePolicy.Next.REPLAY);
        assertThat(policy.next(10, false, false, 2_050)).isEqualTo(FencePolicy.Next.PROBE);
    }

    @Test
    void shouldAcceptASlowPathAfterThreeSlowProbesInARowIfItFitsHalfTheHardBound() {
        assertThat(policy.fenceAfterProbe(true, 900, 0)).isFalse();
        assertThat(policy.fenceAfterProbe(true, 900, 0)).isFalse();
        assertThat(policy.fenceAfterProbe(true, 900, 0)).as("the third slow probe in a row").isTrue();
        assertThat(policy.fenceAfterProbe(true, 1_600, 0)).as("over half the hard bound").isFalse();
        assertThat(policy.fenceAfterProbe(true, 100, 0)).isTrue();
        assertThat(policy.fenceAfterProbe(true, 900, 0)).as("a fast probe starts the count again").isFalse();
    }

    @Test
    void shouldDoubleTheBackOffAfterEachLiftedFenceUpToThirtyTwoTimes() {
        assertThat(policy.unfenced(1, 0)).isEqualTo(300);
        assertThat(policy.next(10, false, false, 299)).isEqualTo(FencePolicy.Next.REPLAY);
        assertThat(policy.next(10, false, false, 300)).isEqualTo(FencePolicy.Next.PROBE);
        assertThat(policy.unfenced(2, 0)).isEqualTo(600);
        assertThat(policy.unfenced(4, 0)).isEqualTo(2_400);
        assertThat(policy.unfenced(6, 0)).isEqualTo(9_600);
        assertThat(policy.unfenced(20, 0)).isEqualTo(9_600);
    }
}
