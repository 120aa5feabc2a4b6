package io.shardline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AuthServiceLayoutTest {

    @Test
    void shouldCutTheAlphabetIntoAsManyTenantRangesAsChunks() {
        assertThat(AuthServiceLayout.letterBoundaries(6)).containsExactly("e", "i", "n", "r", "v");
        assertThat(AuthServiceLayout.letterBoundaries(1)).isEmpty();
    }
}
