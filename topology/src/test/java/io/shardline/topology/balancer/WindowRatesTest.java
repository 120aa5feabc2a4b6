package io.shardline.topology.balancer;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WindowRatesTest {

    @Test
    void shouldTakeTheRoutersReadsAndTheGreaterOfTheRoutersAndTheCdcWrites() {
        WindowRates routed = WindowRates.of(300, 100, 1_000, 1_050, 10_000);
        WindowRates bypassed = WindowRates.of(300, 100, 1_000, 1_800, 10_000);

        assertThat(routed.reads()).isEqualTo(30.0);
        assertThat(routed.writes()).as("10/s from routers beat 5/s from CDC").isEqualTo(10.0);
        assertThat(bypassed.writes()).as("80/s from CDC beat 10/s from routers").isEqualTo(80.0);
        assertThat(bypassed.ops()).isEqualTo(110.0);
    }

    @Test
    void shouldOnlyLearnTheCdcCounterTheFirstTimeItIsSeen() {
        assertThat(WindowRates.of(0, 0, -1, 5_000, 10_000).writes()).isZero();
    }

    @Test
    void shouldNotCountACounterThatWentBackwards() {
        assertThat(WindowRates.of(0, 0, 5_000, 4_000, 10_000).writes()).isZero();
    }
}
