package io.shardline.core.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;

import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.schemas.avro.ChunkState;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * The routing table applies records incrementally; after any sequence of records (splits, moves, merges as the
 * control plane publishes them, half-applied steps, stale and out-of-order versions, epochs, stray tombstones) it
 * must answer exactly as a table rebuilt from the latest records would.
 */
class RoutingTableIncrementalPropertiesTest {

    private static final String NS = "auth.sessions";
    private static final List<ShardKey> BOUNDS = new ArrayList<>();

    static {
        for (long i = 1; i <= 12; i++) {
            BOUNDS.add(KeyEncoding.encode(i * 10));
        }
    }

    @Property(tries = 300)
    void answersAsARebuildAfterAnySequenceOfRecords(@ForAll long seed) {
        Random random = new Random(seed);
        RoutingTable table = new RoutingTable();
        Rebuild reference = new Rebuild();
        long version = 1;
        for (int step = 0; step < 150; step++) {
            List<Chunk> current = reference.latest();
            int op = random.nextInt(10);
            if (op == 0 && !current.isEmpty()) {
                ShardKey min = current.get(random.nextInt(current.size())).min();
                table.remove(NS, min);
                reference.remove(min);
            } else {
                for (Chunk chunk : records(random, current, version++)) {
                    assertThat(table.put(chunk)).as("applied %s", chunk).isEqualTo(reference.put(chunk));
                }
            }
            assertSameAnswers(table, reference, random);
        }
    }

    /**
     * A bulk load (a router's local store) holds the same latest records as applying them one by one; it has no
     * history, so it serves a routing only if those records cover the key space, and from the first record after which
     * they do, it answers as the table that applied every record one by one.
     */
    @Property(tries = 200)
    void aBulkLoadHoldsTheSameRecordsAsApplyingThemOneByOne(@ForAll long seed) {
        Random random = new Random(seed);
        Rebuild reference = new Rebuild();
        List<Chunk> loaded = new ArrayList<>();
        long version = 1;
        for (int step = 0; step < 1 + random.nextInt(60); step++) {
            for (Chunk chunk : records(random, reference.latest(), version++)) {
                reference.put(chunk);
                loaded.add(chunk);
            }
        }
        RoutingTable table = new RoutingTable();
        table.putAll(loaded);
        boolean agreed = reference.violations().isEmpty();
        for (int step = 0; step < 40; step++) {
            assertThat(table.pendingViolations()).isEqualTo(reference.violations());
            if (agreed) {
                assertSameAnswers(table, reference, random);
            } else {
                assertThat(table.namespace(NS)).as("no routing before the records cover the key space").isEmpty();
            }
            for (Chunk chunk : records(random, reference.latest(), version++)) {
                assertThat(table.put(chunk)).as("applied %s", chunk).isEqualTo(reference.put(chunk));
                agreed |= reference.violations().isEmpty();
            }
        }
    }

    /** One step's records: a control-plane step (which may be half applied), or an arbitrary record. */
    private static List<Chunk> records(Random random, List<Chunk> current, long version) {
        int kind = random.nextInt(6);
        if (current.isEmpty() || kind == 0) {
            return List.of(Chunk.active(NS, KeyRange.ALL, "s" + random.nextInt(3), 1, version));
        }
        Chunk chunk = current.get(random.nextInt(current.size()));
        if (kind == 1) {
            ShardKey at = BOUNDS.get(random.nextInt(BOUNDS.size()));
            if (!chunk.range().contains(at) || at.equals(chunk.min())) {
                return List.of();
            }
            List<Chunk> split = List.of(Chunk.active(NS, new KeyRange(chunk.min(), at), chunk.shardId(), chunk.epoch(), version),
                Chunk.active(NS, new KeyRange(at, chunk.max()), chunk.shardId(), chunk.epoch(), version));
            return random.nextInt(4) == 0 ? split.subList(0, 1) : split;
        }
        if (kind == 2) {
            return List.of(new Chunk(NS, chunk.range(), "s" + random.nextInt(3), chunk.epoch(), version,
                random.nextBoolean() ? ChunkState.ACTIVE : ChunkState.FENCED, null));
        }
        if (kind == 3) {
            return List.of(new Chunk(NS, chunk.range(), chunk.shardId(), chunk.epoch(), Math.max(0, chunk.version() - 1 - random.nextInt(2)),
                ChunkState.ACTIVE, null));
        }
        if (kind == 4) {
            ShardKey min = random.nextBoolean() ? ShardKey.MIN : BOUNDS.get(random.nextInt(BOUNDS.size()));
            ShardKey max = random.nextInt(3) == 0 ? null : BOUNDS.get(random.nextInt(BOUNDS.size()));
            if (max != null && min.compareTo(max) >= 0) {
                return List.of();
            }
            return List.of(Chunk.active(NS, new KeyRange(min, max), "s" + random.nextInt(3), 1 + random.nextInt(2), version));
        }
        return List.of(Chunk.active(NS, new KeyRange(chunk.min(), chunk.max()), chunk.shardId(), chunk.epoch() + 1, version));
    }

    private static void assertSameAnswers(RoutingTable table, Rebuild reference, Random random) {
        Optional<NamespaceRouting> actual = table.namespace(NS);
        Optional<NamespaceRouting> expected = reference.consistent;
        assertThat(actual.isPresent()).as("routing present").isEqualTo(expected.isPresent());
        assertThat(table.pendingViolations()).isEqualTo(reference.violations());
        if (expected.isEmpty()) {
            return;
        }
        assertThat(actual.get().chunks()).isEqualTo(expected.get().chunks());
        assertThat(actual.get().size()).isEqualTo(expected.get().chunks().size());
        for (int probe = 0; probe < 5; probe++) {
            ShardKey key = KeyEncoding.encode((long) random.nextInt(140));
            assertThat(actual.get().chunkFor(key)).isEqualTo(expected.get().chunkFor(key));
            ShardKey end = KeyEncoding.encode((long) random.nextInt(140) + 141);
            assertThat(actual.get().chunksFor(new KeyRange(key, end))).isEqualTo(expected.get().chunksFor(new KeyRange(key, end)));
        }
    }

    /** The table as a whole rebuild after every record: validate all latest records, build a routing from them. */
    private static final class Rebuild {
        private final TreeMap<ShardKey, Chunk> latest = new TreeMap<>();
        private Optional<NamespaceRouting> consistent = Optional.empty();

        boolean put(Chunk chunk) {
            Chunk held = latest.get(chunk.min());
            if (held != null && held.epoch() == chunk.epoch() && held.version() > chunk.version()) {
                return false;
            }
            latest.put(chunk.min(), chunk);
            refresh();
            return true;
        }

        void remove(ShardKey min) {
            if (latest.remove(min) != null) {
                refresh();
            }
        }

        private void refresh() {
            if (NamespaceRouting.validate(NS, latest.values()).isEmpty()) {
                consistent = Optional.of(NamespaceRouting.of(NS, latest.values()));
            }
        }

        List<Chunk> latest() {
            return new ArrayList<>(latest.values());
        }

        Map<String, List<String>> violations() {
            List<String> violations = NamespaceRouting.validate(NS, latest.values());
            return violations.isEmpty() ? Map.of() : Map.of(NS, violations);
        }
    }
}
