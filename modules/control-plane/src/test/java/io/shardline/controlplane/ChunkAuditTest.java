package io.shardline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.avro.AcknowledgedCount;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;

class ChunkAuditTest {

    private static final String NS = "auth.users";

    private static ByteBuffer bytes(String hex) {
        return hex == null ? null : ByteBuffer.wrap(HexFormat.of().parseHex(hex));
    }

    private static ChunkRoute chunk(String min, String max, String shard) {
        return ChunkRoute.newBuilder().setNamespace(NS).setMin(bytes(min)).setMax(bytes(max)).setShardId(shard).setState(ChunkState.ACTIVE)
            .setEpoch(1).setVersion(1).build();
    }

    private static AcknowledgedCount count(String router, String min, String max, long added, long removed, long uncertain) {
        return AcknowledgedCount.newBuilder().setRouterId(router).setNamespace(NS).setChunkMin(bytes(min)).setChunkMax(bytes(max))
            .setAdded(added).setRemoved(removed).setUncertain(uncertain).setUpdatedAt(Instant.EPOCH).build();
    }

    @Test
    void shouldFindEachChunkAsAcknowledgedSummedOverRouters() {
        List<ChunkAudit.Group> groups = ChunkAudit.audit(List.of(chunk("", "80", "s1"), chunk("80", null, "s2")),
            List.of(count("r1", "", "80", 10, 2, 0), count("r2", "", "80", 5, 0, 0), count("r1", "80", null, 7, 7, 0)),
            Map.of("", 13L, "80", 0L));

        assertThat(groups).hasSize(2);
        assertThat(groups).allMatch(group -> group.status() == ChunkAudit.Status.OK);
        assertThat(groups.get(0).expected()).isEqualTo(13);
    }

    @Test
    void shouldReportLostDocumentsOfTheChunkWhoseOwnerHoldsFewer() {
        List<ChunkAudit.Group> groups = ChunkAudit.audit(List.of(chunk("", "80", "s1"), chunk("80", null, "s2")),
            List.of(count("r1", "", "80", 10, 0, 0), count("r1", "80", null, 4, 0, 0)), Map.of("", 10L, "80", 1L));

        assertThat(groups.get(0).status()).isEqualTo(ChunkAudit.Status.OK);
        assertThat(groups.get(1).status()).isEqualTo(ChunkAudit.Status.LOST);
        assertThat(groups.get(1).describe()).isEqualTo("LOST 3 acknowledged documents");
    }

    @Test
    void shouldAuditChunksSplitSinceTheirWritesTogether() {
        // Written while [, 80) was one chunk; split at 40 since: the count cannot be divided, the two are one group.
        List<ChunkAudit.Group> groups = ChunkAudit.audit(List.of(chunk("", "40", "s1"), chunk("40", "80", "s2"), chunk("80", null, "s1")),
            List.of(count("r1", "", "80", 10, 0, 0), count("r1", "40", "80", 2, 0, 0), count("r1", "80", null, 3, 0, 0)),
            Map.of("", 6L, "40", 6L, "80", 3L));

        assertThat(groups).hasSize(2);
        assertThat(groups.get(0).chunks()).hasSize(2);
        assertThat(groups.get(0).expected()).isEqualTo(12);
        assertThat(groups.get(0).found()).isEqualTo(12);
        assertThat(groups).allMatch(group -> group.status() == ChunkAudit.Status.OK);
    }

    @Test
    void shouldCallADifferenceWithinTheFailedWritesUncertainAndOneBeyondThemUnacknowledged() {
        List<ChunkAudit.Group> groups = ChunkAudit.audit(List.of(chunk("", "80", "s1"), chunk("80", null, "s2")),
            List.of(count("r1", "", "80", 10, 0, 2), count("r1", "80", null, 0, 0, 0)), Map.of("", 11L, "80", 5L));

        assertThat(groups.get(0).status()).isEqualTo(ChunkAudit.Status.UNCERTAIN);
        assertThat(groups.get(1).status()).isEqualTo(ChunkAudit.Status.UNACKNOWLEDGED);
        assertThat(groups.get(1).describe()).isEqualTo("5 documents no router acknowledged");
    }
}
