package io.shardline.worker.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** The copy's throttle: a moving average of batch latencies against the target. */
class RangeCopyTest {

    @Test
    void shouldNotPauseForOneSlowBatchButForATargetThatStaysSlow() {
        RangeCopy.Throttle throttle = new RangeCopy.Throttle(Duration.ofMillis(250));
        for (int i = 0; i < 10; i++) {
            assertThat(throttle.pauseAfter(10)).isZero();
        }
        assertThat(throttle.pauseAfter(600)).as("one slow batch: the average is 128 ms").isZero();
        assertThat(throttle.pauseAfter(10)).isZero();

        long paused = 0;
        for (int i = 0; i < 5; i++) {
            paused = throttle.pauseAfter(600);
        }
        assertThat(paused).as("five slow batches: the average (438 ms) is past the target; the excess is the pause").isEqualTo(188L); // 437.6 - 250
        assertThat(new RangeCopy.Throttle(Duration.ofMillis(250)).pauseAfter(5_000)).as("at most a second").isEqualTo(1_000);
        assertThat(new RangeCopy.Throttle(Duration.ZERO).pauseAfter(3)).as("a target of zero pauses after any batch").isEqualTo(3);
    }
}
