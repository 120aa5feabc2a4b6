package io.shardline.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

class DeadLetterMetersTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Map<String, Long> ends = new HashMap<>();

    private double count(String topic) {
        return registry.get("shardline.dlq.records").tag("topic", topic).functionCounter().count();
    }

    @Test
    void shouldCountTheRecordsOfEachDeadLetterTopicFromItsEnd() {
        DeadLetterMeters meters = new DeadLetterMeters(registry, List.of("p.commands.dlq", "p.control.dlq"), topics -> Map.copyOf(ends));

        assertThat(count("p.commands.dlq")).as("before the first read").isZero();
        ends.put("p.commands.dlq", 0L);
        ends.put("p.control.dlq", 3L);
        meters.refresh();
        assertThat(count("p.commands.dlq")).isZero();
        assertThat(count("p.control.dlq")).isEqualTo(3);
        ends.put("p.control.dlq", 5L);
        meters.refresh();
        assertThat(count("p.control.dlq")).isEqualTo(5);
    }

    @Test
    void shouldKeepTheLastCountOfATopicWhoseEndCannotBeRead() {
        DeadLetterMeters meters = new DeadLetterMeters(registry, List.of("p.cdc.dlq", "p.control.dlq"), topics -> Map.copyOf(ends));
        ends.put("p.cdc.dlq", 7L);
        ends.put("p.control.dlq", 2L);
        meters.refresh();

        ends.remove("p.cdc.dlq");
        ends.put("p.control.dlq", 4L);
        meters.refresh();

        assertThat(count("p.cdc.dlq")).isEqualTo(7);
        assertThat(count("p.control.dlq")).isEqualTo(4);
    }

    @Test
    void shouldKeepEveryCountWhenTheReadFailsAsAWhole() {
        boolean[] failing = {false};
        DeadLetterMeters meters = new DeadLetterMeters(registry, List.of("p.control.dlq"), topics -> {
            if (failing[0]) {
                throw new IllegalStateException("no broker");
            }
            return Map.of("p.control.dlq", 9L);
        });
        meters.refresh();
        failing[0] = true;

        meters.refresh();

        assertThat(count("p.control.dlq")).isEqualTo(9);
    }
}
