package io.shardline.core.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.shardline.core.key.HashedKeyStrategy;
import io.shardline.core.key.KeyEncoding;

class InitialChunksTest {

    @Test
    void shouldCutTheAlphabetIntoAsManyRangesAsChunks() {
        assertThat(InitialChunks.letterBoundaries(6)).containsExactly("e", "i", "n", "r", "v");
        assertThat(InitialChunks.letterBoundaries(1)).isEmpty();
    }

    @Test
    void shouldCoverTheKeySpaceAndDealChunksRoundRobin() {
        List<Chunk> chunks = InitialChunks.layout("auth.sessions", 1, InitialChunks.hashedBoundaries(6), List.of("s1", "s2", "s3"));

        NamespaceRouting routing = NamespaceRouting.of("auth.sessions", chunks);
        assertThat(routing.chunks()).extracting(Chunk::shardId).containsExactly("s1", "s2", "s3", "s1", "s2", "s3");
    }

    @Test
    void shouldSpreadHashedKeysEvenly() {
        List<Chunk> chunks = InitialChunks.layout("auth.sessions", 1, InitialChunks.hashedBoundaries(4), List.of("a", "b", "c", "d"));
        NamespaceRouting routing = NamespaceRouting.of("auth.sessions", chunks);
        HashedKeyStrategy strategy = new HashedKeyStrategy("userId");
        Map<String, Long> perShard = new java.util.HashMap<>();
        for (int i = 0; i < 4_000; i++) {
            perShard.merge(routing.chunkFor(strategy.keyOf(Map.of("userId", "user-" + i))).shardId(), 1L, Long::sum);
        }
        assertThat(perShard.values()).allSatisfy(n -> assertThat(n).isBetween(850L, 1150L));
    }

    @Test
    void shouldRejectBoundariesThatAreNotIncreasing() {
        assertThatThrownBy(() -> InitialChunks.layout("auth.users", 1,
            InitialChunks.valueBoundaries(List.of("m", "c")), List.of("s1")))
            .hasMessageContaining("strictly increasing");
        assertThat(InitialChunks.valueBoundaries(List.of("m")).get(0)).isEqualTo(KeyEncoding.encode("m"));
    }
}
