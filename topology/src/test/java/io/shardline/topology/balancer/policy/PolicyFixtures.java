package io.shardline.topology.balancer.policy;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;

/**
 * Shards and chunks for the policy tests: every shard has a capacity of 1,000 bytes and 100 ops/s, the default
 * thresholds (split at 80% storage or 70% load for 3 windows, merge under 20%, chunks split by load kept 10 minutes).
 */
final class PolicyFixtures {

    static final long NOW = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli();
    static final String NS = "app.items";

    private PolicyFixtures() {
    }

    static Shard shard(String id) {
        return new Shard(id);
    }

    static ChunkView chunk(String owner, String minHex, String maxHex, long bytes, double opsPerSec) {
        return new ChunkView(route(owner, minHex, maxHex, null), NS + "|" + minHex, minHex, maxHex, bytes / 10, bytes, opsPerSec, false, null);
    }

    static ChunkView unsplittableChunk(String owner, String minHex, String maxHex, long bytes) {
        return new ChunkView(route(owner, minHex, maxHex, null), NS + "|" + minHex, minHex, maxHex, bytes / 10, bytes, 0, true, null);
    }

    static ChunkView loadSplitChunk(String owner, String minHex, long bytes, long splitAtMillis) {
        Instant at = Instant.ofEpochMilli(splitAtMillis);
        return new ChunkView(route(owner, minHex, null, at), NS + "|" + minHex, minHex, null, bytes / 10, bytes, 0, false, splitAtMillis);
    }

    private static ChunkRoute route(String owner, String minHex, String maxHex, Instant splitByLoadAt) {
        return ChunkRoute.newBuilder().setNamespace(NS).setMin(ByteBuffer.wrap(HexFormat.of().parseHex(minHex)))
            .setMax(maxHex == null ? null : ByteBuffer.wrap(HexFormat.of().parseHex(maxHex))).setShardId(owner).setEpoch(1).setVersion(1)
            .setSplitByLoadAt(splitByLoadAt).build();
    }

    static ClusterSnapshot cluster(Shard... shards) {
        List<ShardView> views = new ArrayList<>();
        for (Shard shard : shards) {
            views.add(shard.view());
        }
        return ClusterSnapshot.of(NOW, views, Set.of(), 0);
    }

    /** The cluster with zones: each zone's shards ({@code zone=s1,s2}) and key ranges of {@link #NS} pinned to them. */
    static ClusterSnapshot zoned(ClusterSnapshot cluster, java.util.Map<String, List<String>> shardsByZone, List<io.shardline.schemas.avro.ZoneRange> ranges) {
        List<io.shardline.schemas.avro.ShardDescriptor> descriptors = new ArrayList<>();
        for (ShardView shard : cluster.shards()) {
            List<String> zones = shardsByZone.entrySet().stream().filter(e -> e.getValue().contains(shard.id())).map(java.util.Map.Entry::getKey).toList();
            descriptors.add(io.shardline.schemas.avro.ShardDescriptor.newBuilder().setShardId(shard.id()).setConnectionString("mongodb://" + shard.id())
                .setCapacityBytes(1_000).setCapacityOpsPerSec(100).setState(shard.state()).setZones(zones).setVersion(1).setUpdatedAt(Instant.ofEpochMilli(NOW))
                .build());
        }
        io.shardline.schemas.avro.NamespaceConfig config = io.shardline.schemas.avro.NamespaceConfig.newBuilder().setNamespace(NS)
            .setStrategy(io.shardline.schemas.avro.ShardKeyStrategyType.HASHED).setShardKeyFields(List.of("_id")).setThresholds(Thresholds.newBuilder().build())
            .setZones(ranges).setEpoch(1).setVersion(1).build();
        return ClusterSnapshot.of(NOW, cluster.shards(), cluster.busy(), cluster.migrationsInFlight(),
            io.shardline.core.routing.Zones.of(descriptors, List.of(config)));
    }

    static io.shardline.schemas.avro.ZoneRange zoneRange(String zone, String minHex, String maxHex) {
        return io.shardline.schemas.avro.ZoneRange.newBuilder().setZone(zone).setMin(ByteBuffer.wrap(HexFormat.of().parseHex(minHex)))
            .setMax(maxHex == null ? null : ByteBuffer.wrap(HexFormat.of().parseHex(maxHex))).build();
    }

    static ShardView view(ClusterSnapshot cluster, String id) {
        return cluster.shards().stream().filter(shard -> shard.id().equals(id)).findFirst().orElseThrow();
    }

    /** A shard under construction: ACTIVE, filled, with stats, no streaks, no chunks, out of cooldown. */
    static final class Shard {
        private final String id;
        private double storage;
        private double load;
        private int splitStreak;
        private int mergeStreak;
        private long cooldownUntil;
        private ShardState state = ShardState.ACTIVE;
        private Thresholds thresholds = Thresholds.newBuilder().build();
        private final List<ChunkView> chunks = new ArrayList<>();

        private Shard(String id) {
            this.id = id;
        }

        Shard storage(double ratio) {
            this.storage = ratio;
            return this;
        }

        Shard load(double ratio) {
            this.load = ratio;
            return this;
        }

        /** Over its split thresholds for the sustained 3 windows. */
        Shard overloaded() {
            this.splitStreak = 3;
            return this;
        }

        Shard splitStreak(int windows) {
            this.splitStreak = windows;
            return this;
        }

        /** Under its merge ratio for the sustained 3 windows. */
        Shard idle() {
            this.mergeStreak = 3;
            return this;
        }

        Shard mergeStreak(int windows) {
            this.mergeStreak = windows;
            return this;
        }

        Shard coolingDownUntil(long millis) {
            this.cooldownUntil = millis;
            return this;
        }

        Shard state(ShardState shardState) {
            this.state = shardState;
            return this;
        }

        Shard thresholds(Thresholds limits) {
            this.thresholds = limits;
            return this;
        }

        /** Owns one chunk holding all its bytes, unless chunks are given. */
        Shard chunks(ChunkView... owned) {
            chunks.addAll(List.of(owned));
            return this;
        }

        ShardView view() {
            long bytes = Math.round(storage * 1_000);
            List<ChunkView> owned = chunks.isEmpty() ? List.of(chunk(id, hexOf(id), null, bytes, load * 100)) : chunks;
            return new ShardView(id, state, 1_000, 100, bytes, bytes / 10, load * 100, storage, load, true, true, splitStreak,
                mergeStreak, cooldownUntil, owned, thresholds);
        }

        private static String hexOf(String id) {
            return HexFormat.of().formatHex(id.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }
}
