package io.shardline.worker.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;

class WorkerConfigTest {

    private static final WorkerConfig DEFAULTS = WorkerConfig.defaults("localhost:9092",
        new TopicCatalog("acme.", new RegistrySerdes("http://127.0.0.1:1")));

    @Test
    void shouldDefaultToTheDesignsFenceBudgetAndOneGroupPerCatalog() {
        assertThat(DEFAULTS.fenceBudget()).isEqualTo(Duration.ofMillis(500));
        assertThat(DEFAULTS.groupId()).isEqualTo("acme.workers");
        assertThat(DEFAULTS.workerId()).startsWith("worker-");
    }

    @Test
    void shouldRejectAFenceHoldShorterThanTheAckWait() {
        assertThatThrownBy(() -> DEFAULTS.withFence(Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofSeconds(1), Duration.ofSeconds(1)))
            .hasMessageContaining("maxFenceHold");
    }

    @Test
    void shouldRejectBatchSizesAndDurationsThatCannotWork() {
        assertThatThrownBy(() -> DEFAULTS.withCopyBatchSize(0)).hasMessageContaining("copyBatchSize");
        assertThatThrownBy(() -> DEFAULTS.withGracePeriod(Duration.ofSeconds(-1))).hasMessageContaining("negative");
        assertThatThrownBy(() -> DEFAULTS.withVerifyFullScanMaxDocs(-1)).hasMessageContaining("verifyFullScanMaxDocs");
    }
}
