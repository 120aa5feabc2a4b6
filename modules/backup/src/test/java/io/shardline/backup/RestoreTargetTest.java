package io.shardline.backup;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;

class RestoreTargetTest {

    private static final String NS = "auth.users";

    private static KeyRange range(int min, int max) {
        return new KeyRange(ShardKey.ofBytes(new byte[] {(byte) min}), ShardKey.ofBytes(new byte[] {(byte) max}));
    }

    private static MigrationState migration(String from, String to, MigrationPhase phase) {
        return MigrationState.newBuilder().setMigrationId("m1").setCommandId("c").setNamespace(NS).setChunkMin(ByteBuffer.wrap(new byte[] {0x10}))
            .setSourceShardId(from).setTargetShardId(to).setPhase(phase).setStartedAt(Instant.EPOCH).setUpdatedAt(Instant.EPOCH).build();
    }

    @Test
    void shouldRestoreInPlaceOnlyWhileTheShardOwnsWhatItOwnedThenAndNothingMoves() {
        Map<String, List<KeyRange>> then = Map.of(NS, List.of(range(0x00, 0x20)));
        ShardRestore.ClusterView same = new ShardRestore.ClusterView(Map.of(NS, List.of(range(0x00, 0x10), range(0x10, 0x20))), 0,
            List.of(migration("s1", "s2", MigrationPhase.CLEANED)), List.of(NS));
        assertThatCode(() -> RestoreTarget.checkInPlace("s1", List.of(NS), then, same)).doesNotThrowAnyException();

        ShardRestore.ClusterView movedOut = new ShardRestore.ClusterView(Map.of(NS, List.of(range(0x00, 0x10))), 0, List.of(), List.of(NS));
        assertThatThrownBy(() -> RestoreTarget.checkInPlace("s1", List.of(NS), then, movedOut)).isInstanceOf(BackupException.class)
            .hasMessageContaining("--in-place").hasMessageContaining("--into");
        ShardRestore.ClusterView moving = new ShardRestore.ClusterView(Map.of(NS, List.of(range(0x00, 0x20))), 0,
            List.of(migration("s2", "s1", MigrationPhase.COPYING)), List.of(NS));
        assertThatThrownBy(() -> RestoreTarget.checkInPlace("s1", List.of(NS), then, moving)).isInstanceOf(BackupException.class)
            .hasMessageContaining("migration m1");
    }
}
