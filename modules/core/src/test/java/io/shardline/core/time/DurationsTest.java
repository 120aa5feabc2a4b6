package io.shardline.core.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void readsEveryShortUnit() {
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Durations.parse("2h")).isEqualTo(Duration.ofHours(2));
        assertThat(Durations.parse("1d")).isEqualTo(Duration.ofDays(1));
        assertThat(Durations.parse("0s")).isEqualTo(Duration.ZERO);
    }

    @Test
    void readsIsoAndIgnoresSurroundingBlanks() {
        assertThat(Durations.parse("PT1M30S")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse(" 10m ")).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void refusesWhatIsNoDurationAndNamesIt() {
        for (String text : new String[] {"five minutes", "5", "5 m", "5M", "-5s", "1w", "", "1.5s"}) {
            assertThatThrownBy(() -> Durations.parse(text)).as(text).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'" + text + "' is not a duration: use e.g. " + Durations.FORMS);
        }
    }

    @Test
    void refusesAnAmountTooLargeForADuration() {
        assertThatThrownBy(() -> Durations.parse("99999999999999999999s")).isInstanceOf(IllegalArgumentException.class)
            .hasCauseInstanceOf(NumberFormatException.class);
        assertThatThrownBy(() -> Durations.parse("9223372036854775807d")).isInstanceOf(IllegalArgumentException.class)
            .hasCauseInstanceOf(ArithmeticException.class);
    }
}
