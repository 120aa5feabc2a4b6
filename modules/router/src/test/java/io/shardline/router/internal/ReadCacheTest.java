package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class ReadCacheTest {

    @Test
    void shouldAnswerARepeatedReadFromTheCacheUntilItsNamespaceChanges() {
        ReadCache cache = new ReadCache(10);
        AtomicInteger reads = new AtomicInteger();

        cache.get("db.a", "q", reads::incrementAndGet);
        cache.get("db.a", "q", reads::incrementAndGet);
        cache.invalidate("db.b");
        cache.get("db.a", "q", reads::incrementAndGet);
        cache.invalidate("db.a");
        cache.get("db.a", "q", reads::incrementAndGet);

        assertThat(reads).hasValue(2);
        assertThat(cache.hits()).isEqualTo(2);
    }

    @Test
    void shouldNotKeepAResultThatWasComputedWhileItsNamespaceChanged() {
        ReadCache cache = new ReadCache(10);

        cache.get("db.a", "q", () -> {
            cache.invalidate("db.a"); // a CDC event arrives while the shards are being read
            return 1;
        });

        assertThat(cache.size()).isZero();
    }

    @Test
    void shouldDropTheLeastRecentlyUsedResultWhenFull() {
        ReadCache cache = new ReadCache(2);
        cache.get("db.a", "q1", () -> 1);
        cache.get("db.a", "q2", () -> 2);
        cache.get("db.a", "q1", () -> 1);
        cache.get("db.a", "q3", () -> 3);

        AtomicInteger recomputed = new AtomicInteger();
        cache.get("db.a", "q1", recomputed::incrementAndGet);
        cache.get("db.a", "q2", recomputed::incrementAndGet);

        assertThat(recomputed).as("q1 was kept, q2 was evicted").hasValue(1);
    }

    @Test
    void shouldCacheNothingWhenOff() {
        ReadCache cache = new ReadCache(0);
        AtomicInteger reads = new AtomicInteger();

        cache.get("db.a", "q", reads::incrementAndGet);
        cache.get("db.a", "q", reads::incrementAndGet);

        assertThat(reads).hasValue(2);
        assertThat(CdcInvalidator.namespaceOf("cdc.s1.auth.users")).isEqualTo("auth.users");
        assertThat(CdcInvalidator.namespaceOf("__debezium-heartbeat.cdc.s1")).isNull();
    }
}
