package io.shardline.embedded.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

class FreePortsTest {

    @Test
    void shouldNeverHandOutThePortTwiceEvenToPartsStartingInParallel() throws Exception {
        Set<Integer> seen = ConcurrentHashMap.newKeySet();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Boolean>> added = new java.util.ArrayList<>();
            for (int i = 0; i < 400; i++) {
                added.add(pool.submit(() -> seen.add(FreePorts.next())));
            }
            for (Future<Boolean> add : added) {
                assertThat(add.get()).as("a port handed out twice").isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(seen).hasSize(400);
    }
}
