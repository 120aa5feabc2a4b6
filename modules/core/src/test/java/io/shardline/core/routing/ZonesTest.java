package io.shardline.core.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.shardline.core.key.KeyHex;
import io.shardline.schemas.avro.NamespaceConfig;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.ShardState;
import io.shardline.schemas.avro.Thresholds;
import io.shardline.schemas.avro.ZoneRange;

class ZonesTest {

    private static ShardDescriptor shard(String id, ShardState state, String... zones) {
        return ShardDescriptor.newBuilder().setShardId(id).setConnectionString("mongodb://" + id).setCapacityBytes(1).setCapacityOpsPerSec(1)
            .setState(state).setZones(List.of(zones)).setVersion(1).setUpdatedAt(Instant.EPOCH).build();
    }

    private static ZoneRange range(String zone, String min, String max) {
        return ZoneRange.newBuilder().setZone(zone).setMin(KeyHex.bytes(min)).setMax(KeyHex.bytes(max)).build();
    }

    private static NamespaceConfig config(String ns, ZoneRange... ranges) {
        return NamespaceConfig.newBuilder().setNamespace(ns).setStrategy(ShardKeyStrategyType.TENANT).setShardKeyFields(List.of("tenantId"))
            .setThresholds(Thresholds.newBuilder().build()).setZones(List.of(ranges)).setEpoch(1).setVersion(1).build();
    }

    private final Zones zones = Zones.of(List.of(shard("s1", ShardState.ACTIVE, "eu"), shard("s2", ShardState.ACTIVE, "eu", "us"),
            shard("s3", ShardState.ACTIVE), shard("s4", ShardState.DRAINING, "us")),
        List.of(config("db.users", range("eu", "20", "40"), range("us", "60", null)), config("db.audit")));

    @Test
    void shouldGiveAChunkInsideAZoneRangeThatZone() {
        assertThat(zones.zoneOf("db.users", KeyHex.bytes("20"), KeyHex.bytes("30"))).isEqualTo("eu");
        assertThat(zones.zoneOf("db.users", KeyHex.bytes("70"), null)).isEqualTo("us");
        assertThat(zones.zoneOf("db.users", KeyHex.bytes("40"), KeyHex.bytes("60"))).as("between the ranges").isNull();
        assertThat(zones.zoneOf("db.audit", KeyHex.bytes(""), null)).as("a namespace without zones").isNull();
    }

    @Test
    void shouldAllowAZonedChunkOnlyOnTheActiveShardsOfItsZone() {
        assertThat(zones.allows("db.users", KeyHex.bytes("21"), KeyHex.bytes("22"), "s1")).isTrue();
        assertThat(zones.allows("db.users", KeyHex.bytes("21"), KeyHex.bytes("22"), "s3")).isFalse();
        assertThat(zones.allows("db.users", KeyHex.bytes("61"), null, "s4")).as("a DRAINING shard of the zone").isFalse();
        assertThat(zones.allows("db.users", KeyHex.bytes("41"), KeyHex.bytes("42"), "s3")).as("an unzoned chunk").isTrue();
        assertThat(zones.shardsOf("us")).containsExactly("s2");
        assertThat(zones.shardsOf("nowhere")).isEmpty();
    }

    @Test
    void shouldNameTheZoneBoundsInsideAChunkInKeyOrder() {
        assertThat(zones.boundariesInside("db.users", KeyHex.bytes(""), null)).containsExactly("20", "40", "60");
        assertThat(zones.boundariesInside("db.users", KeyHex.bytes("20"), KeyHex.bytes("40"))).as("bounds on the chunk's own bounds").isEmpty();
        assertThat(zones.boundariesInside("db.users", KeyHex.bytes("30"), KeyHex.bytes("61"))).containsExactly("40", "60");
        assertThat(zones.zoneOf("db.users", KeyHex.bytes("30"), KeyHex.bytes("61"))).as("a straddling chunk: the zone of its lower bound").isEqualTo("eu");
    }

    @Test
    void shouldAllowAChunkThatReachesIntoAZoneOnlyOnTheShardsOfEveryZoneItOverlaps() {
        assertThat(zones.allows("db.users", KeyHex.bytes("10"), KeyHex.bytes("30"), "s3")).as("starts unzoned, reaches into eu").isFalse();
        assertThat(zones.allowed("db.users", KeyHex.bytes("10"), KeyHex.bytes("30"))).containsExactlyInAnyOrder("s1", "s2");
        assertThat(zones.allowed("db.users", KeyHex.bytes("30"), KeyHex.bytes("70"))).as("eu and us").containsExactly("s2");
        assertThat(zones.allowed("db.users", KeyHex.bytes("40"), KeyHex.bytes("60"))).as("between the ranges: any shard").isNull();
    }

    @Test
    void shouldTellOverlappingRanges() {
        assertThat(Zones.overlap("20", "40", "30", null)).isTrue();
        assertThat(Zones.overlap("20", "40", "40", "50")).isFalse();
        assertThat(Zones.overlap("", null, "99", "aa")).isTrue();
        assertThat(zones.any()).isTrue();
        assertThat(Zones.of(List.of(), List.of(config("db.audit"))).any()).isFalse();
    }
}
