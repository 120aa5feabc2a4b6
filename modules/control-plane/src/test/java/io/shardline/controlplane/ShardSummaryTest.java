package io.shardline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class ShardSummaryTest {

    /** {@code count} shards, s{i} at i% of its storage and (count - i)% of its load; the last two retired. */
    private static ShardSummary cluster(int count) {
        List<ShardSummary.Shard> shards = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            shards.add(new ShardSummary.Shard("s" + i, i >= count - 2 ? "RETIRED" : "ACTIVE", 10, 100, 1_000, i / 100.0, (count - i) / 200.0,
                1L << 30, 1_000, "mongodb://s" + i));
        }
        return new ShardSummary(shards);
    }

    @Test
    void shouldListTheFullestShardsFirstAndTotalEveryOne() {
        ShardSummary summary = cluster(1_024);

        List<ShardSummary.Shard> listed = summary.listed(5);

        assertThat(listed).extracting(ShardSummary.Shard::id).containsExactly("s1023", "s1022", "s1021", "s1020", "s1019");
        assertThat(summary.totalsLine(listed.size())).isEqualTo("1,024 shards (1,022 ACTIVE, 2 RETIRED); the 5 fullest listed, --all lists every "
            + "one; 10,240 chunks, 102,400 documents, 1,024,000 bytes; storage median 512.0%, max 1023.0%; load median 256.5%, max 512.0%");
    }

    @Test
    void shouldListEveryShardOfASmallClusterInItsOwnOrder() {
        ShardSummary summary = cluster(3);

        assertThat(summary.listed(20)).extracting(ShardSummary.Shard::id).containsExactly("s0", "s1", "s2");
        assertThat(summary.totalsLine(3)).startsWith("3 shards (1 ACTIVE, 2 RETIRED); 30 chunks").doesNotContain("--all");
        assertThatThrownBy(() -> summary.listed(-1)).hasMessageContaining("top");
    }
}
