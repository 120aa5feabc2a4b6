package io.shardline.router.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.bson.Document;
import org.junit.jupiter.api.Test;

import io.shardline.core.key.KeyEncoding;
import io.shardline.core.key.KeyRange;
import io.shardline.core.key.ShardKey;
import io.shardline.core.key.TenantKeyStrategy;
import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.NamespaceRouting;

class ShardTargetsTest {

    private static final String NS = "auth.users";
    private static final ShardKey M = KeyEncoding.encode("m");
    private final Targeting targeting = new Targeting(new TenantKeyStrategy("tenantId", null, 0));
    /** [MIN, "m") on s1, ["m", MAX) on s2. */
    private final NamespaceRouting routing = NamespaceRouting.of(NS, List.of(
        Chunk.active(NS, new KeyRange(ShardKey.MIN, M), "s1", 1, 1),
        Chunk.active(NS, new KeyRange(M, null), "s2", 1, 1)));

    private ShardTargets targets(Document filter) {
        return ShardTargets.of(routing, targeting.plan(filter));
    }

    @Test
    void shouldSendAFilterOnKeysTheShardOwnsAsItIs() {
        Document byTenant = new Document("tenantId", "acme");

        assertThat(targets(byTenant).shards()).containsExactly("s1");
        assertThat(targets(byTenant).scoped("s1", byTenant)).as("no document of another range can match").isSameAs(byTenant);
        Document twoTenants = new Document("tenantId", new Document("$in", List.of("acme", "beta")));
        assertThat(targets(twoTenants).scoped("s1", twoTenants)).isSameAs(twoTenants);
    }

    @Test
    void shouldRestrictAFilterThatCanMatchKeysOfOtherShardsToTheShardsOwnRanges() {
        Document any = new Document("name", "x");
        Document scoped = targets(any).scoped("s1", any);

        assertThat(scoped.toJson()).contains("\"_sk\"").contains("\"$lt\": \"" + M.toHex() + "\"").contains("\"name\": \"x\"");
        Document spanning = new Document("tenantId", new Document("$in", List.of("acme", "zeta")));
        assertThat(targets(spanning).shards()).containsExactlyInAnyOrder("s1", "s2");
        assertThat(targets(spanning).scoped("s2", spanning).toJson()).contains("\"$gte\": \"" + M.toHex() + "\"");
    }

    @Test
    void shouldTellWhetherOwnedRangesCoverWhatAFilterCanMatch() {
        KeyRange low = new KeyRange(ShardKey.MIN, M);
        KeyRange acme = KeyRange.prefix(KeyEncoding.encode("acme"));

        assertThat(ShardTargets.covers(List.of(low), List.of(acme))).isTrue();
        assertThat(ShardTargets.covers(List.of(low), List.of(acme, new KeyRange(KeyEncoding.encode("zeta"), null)))).isFalse();
        assertThat(ShardTargets.covers(List.of(KeyRange.ALL), List.of(KeyRange.ALL))).isTrue();
        assertThat(ShardTargets.covers(List.of(low), List.of(KeyRange.ALL))).isFalse();
    }
}
