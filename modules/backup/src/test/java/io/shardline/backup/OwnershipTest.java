package io.shardline.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;

class OwnershipTest {

    private static final String NS = "auth.users";

    private static ShardKey key(int b) {
        return ShardKey.ofBytes(new byte[] {(byte) b});
    }

    private static KeyRange range(int min, Integer max) {
        return new KeyRange(key(min), max == null ? null : key(max));
    }

    private static MigrationState moved(int min, int max, String from, String to, long cutOverAt, MigrationPhase phase, long updatedAt) {
        return MigrationState.newBuilder().setMigrationId("m" + min + from + to).setCommandId("c").setNamespace(NS)
            .setChunkMin(ByteBuffer.wrap(new byte[] {(byte) min})).setChunkMax(ByteBuffer.wrap(new byte[] {(byte) max}))
            .setSourceShardId(from).setTargetShardId(to).setPhase(phase).setCutOverAt(cutOverAt < 0 ? null : Instant.ofEpochMilli(cutOverAt))
            .setStartedAt(Instant.ofEpochMilli(0)).setUpdatedAt(Instant.ofEpochMilli(updatedAt)).build();
    }

    @Test
    void shouldAddTheRangesMovedInAndRemoveThoseMovedOutAfterTheKnownMoment() {
        List<MigrationState> history = List.of(
            moved(0x10, 0x20, "s1", "s2", 100, MigrationPhase.CLEANED, 150),
            moved(0x40, 0x50, "s2", "s1", 200, MigrationPhase.CLEANED, 250));
        Map<String, List<KeyRange>> known = Map.of(NS, List.of(range(0x00, 0x30)));

        assertThat(Ownership.at("s1", 50, known, 50, history).get(NS)).containsExactly(range(0x00, 0x30));
        assertThat(Ownership.at("s1", 150, known, 50, history).get(NS)).containsExactly(range(0x00, 0x10), range(0x20, 0x30));
        assertThat(Ownership.at("s1", 300, known, 50, history).get(NS)).containsExactly(range(0x00, 0x10), range(0x20, 0x30), range(0x40, 0x50));
    }

    @Test
    void shouldUndoTheHandoversAfterTheMomentWhenKnownLater() {
        List<MigrationState> history = List.of(moved(0x10, 0x20, "s1", "s2", 100, MigrationPhase.CLEANED, 150));
        Map<String, List<KeyRange>> now = Map.of(NS, List.of(range(0x00, 0x10), range(0x20, 0x30)));

        assertThat(Ownership.at("s1", 99, now, 1_000, history).get(NS)).containsExactly(range(0x00, 0x30));
        assertThat(Ownership.at("s1", 100, now, 1_000, history).get(NS)).containsExactly(range(0x00, 0x10), range(0x20, 0x30));
        assertThat(Ownership.at("s2", 99, Map.of(NS, List.of(range(0x10, 0x20))), 1_000, history).get(NS)).isEmpty();
    }

    @Test
    void shouldHandARolledBackRangeBackWhenTheRollbackEnded() {
        List<MigrationState> history = List.of(
            moved(0x10, 0x20, "s1", "s2", 100, MigrationPhase.ROLLED_BACK, 300),
            moved(0x20, 0x30, "s1", "s2", -1, MigrationPhase.ABORTED, 300));
        Map<String, List<KeyRange>> known = Map.of(NS, List.of(range(0x00, 0x30)));

        assertThat(Ownership.at("s1", 200, known, 50, history).get(NS)).containsExactly(range(0x00, 0x10), range(0x20, 0x30));
        assertThat(Ownership.at("s1", 300, known, 50, history).get(NS)).containsExactly(range(0x00, 0x30));
        assertThat(Ownership.at("s2", 200, Map.of(), 50, history).get(NS)).containsExactly(range(0x10, 0x20));
    }

    @Test
    void shouldKeepRangesSortedDisjointAndCoalescedWithUnboundedEnds() {
        List<KeyRange> set = new ArrayList<>();
        Ownership.add(set, range(0x30, null));
        Ownership.add(set, range(0x00, 0x10));
        Ownership.add(set, range(0x10, 0x20));
        assertThat(set).containsExactly(range(0x00, 0x20), range(0x30, null));
        Ownership.subtract(set, range(0x05, 0x35));
        assertThat(set).containsExactly(range(0x00, 0x05), range(0x35, null));
        assertThat(Ownership.contains(set, key(0x04))).isTrue();
        assertThat(Ownership.contains(set, key(0x05))).isFalse();
        assertThat(Ownership.contains(set, ShardKey.ofBytes(new byte[] {(byte) 0xff, 1}))).isTrue();
        Ownership.subtract(set, KeyRange.ALL);
        assertThat(set).isEmpty();
    }

    @Test
    void shouldHandARangeBackWhenTheRollbacksRouteSaysSoNotWhenTheRollbackEnds() {
        MigrationState rollingBack = MigrationState.newBuilder(moved(0x10, 0x20, "s1", "s2", 100, MigrationPhase.CUT_OVER, 400))
            .setHandedBackAt(Instant.ofEpochMilli(250)).build();
        MigrationState rolledBack = MigrationState.newBuilder(rollingBack).setPhase(MigrationPhase.ROLLED_BACK).build();
        Map<String, List<KeyRange>> known = Map.of(NS, List.of(range(0x00, 0x30)));

        for (MigrationState state : List.of(rollingBack, rolledBack)) {
            assertThat(Ownership.at("s1", 200, known, 50, List.of(state)).get(NS)).containsExactly(range(0x00, 0x10), range(0x20, 0x30));
            assertThat(Ownership.at("s1", 260, known, 50, List.of(state)).get(NS)).as("owned again from 250, while the target's copy is deleted")
                .containsExactly(range(0x00, 0x30));
        }
    }
}
