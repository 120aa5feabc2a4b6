package io.shardline.core.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

class RoutingInvariantPropertiesTest {

    private static final String NS = "auth.users";

    static List<Chunk> chunksSplitAt(Set<Long> splitPoints) {
        List<ShardKey> bounds = new ArrayList<>();
        new TreeSet<>(splitPoints).forEach(p -> bounds.add(KeyEncoding.encode(p)));
        List<Chunk> chunks = new ArrayList<>();
        ShardKey min = ShardKey.MIN;
        for (int i = 0; i <= bounds.size(); i++) {
            ShardKey max = i < bounds.size() ? bounds.get(i) : null;
            chunks.add(Chunk.active(NS, new KeyRange(min, max), "s" + (i % 3), 1, i));
            min = max;
        }
        return chunks;
    }

    @Property
    void everyKeyFallsInExactlyOneChunkWhenChunksCoverTheKeySpace(
        @ForAll @Size(max = 30) Set<Long> splitPoints, @ForAll long probe) {
        List<Chunk> chunks = chunksSplitAt(splitPoints);
        NamespaceRouting routing = NamespaceRouting.of(NS, chunks);
        ShardKey key = KeyEncoding.encode(probe);

        long holders = chunks.stream().filter(c -> c.range().contains(key)).count();
        assertThat(holders).isEqualTo(1);
        assertThat(routing.chunkFor(key).range().contains(key)).isTrue();
    }

    @Property
    void aRangeLookupReturnsExactlyTheOverlappingChunks(
        @ForAll @Size(max = 30) Set<Long> splitPoints, @ForAll long a, @ForAll long b) {
        if (a == b) {
            return;
        }
        List<Chunk> chunks = chunksSplitAt(splitPoints);
        KeyRange range = new KeyRange(KeyEncoding.encode(Math.min(a, b)), KeyEncoding.encode(Math.max(a, b)));

        List<Chunk> expected = chunks.stream().filter(c -> c.range().overlaps(range)).toList();
        assertThat(NamespaceRouting.of(NS, chunks).chunksFor(range)).containsExactlyElementsOf(expected);
    }

    @Property
    void removingAnyChunkIsReportedAsAGap(
        @ForAll @Size(min = 1, max = 30) Set<Long> splitPoints, @ForAll @IntRange(max = 30) int victim) {
        List<Chunk> chunks = new ArrayList<>(chunksSplitAt(splitPoints));
        chunks.remove(victim % chunks.size());

        assertThatThrownBy(() -> NamespaceRouting.of(NS, chunks))
            .isInstanceOf(RoutingInvariantException.class)
            .hasMessageContaining("gap");
    }

    @Property
    void aChunkReachingIntoItsNeighbourIsReportedAsAnOverlap(
        @ForAll @Size(min = 2, max = 30) Set<Long> splitPoints, @ForAll @IntRange(max = 30) int victim) {
        List<Chunk> chunks = new ArrayList<>(chunksSplitAt(splitPoints));
        int index = victim % (chunks.size() - 1);
        Chunk widened = chunks.get(index);
        Chunk next = chunks.get(index + 1);
        ShardKey beyond = next.max() == null ? null : next.max();
        chunks.set(index, Chunk.active(NS, new KeyRange(widened.min(), beyond), widened.shardId(), 1, widened.version()));

        assertThatThrownBy(() -> NamespaceRouting.of(NS, chunks))
            .isInstanceOf(RoutingInvariantException.class)
            .hasMessageContaining("overlap");
    }
}
