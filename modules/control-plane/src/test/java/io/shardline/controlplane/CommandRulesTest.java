package io.shardline.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.MigrationPhases;
import io.shardline.controlplane.CommandRules.Subject;
import io.shardline.controlplane.CommandRules.Violation;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.ChunkState;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardDescriptor;
import io.shardline.schemas.avro.ShardState;

class CommandRulesTest {

    private static final String NS = "auth.users";

    private static ByteBuffer bytes(String hex) {
        return hex == null ? null : ByteBuffer.wrap(HexFormat.of().parseHex(hex));
    }

    private static ChunkRoute route(String min, String max, String shard) {
        return ChunkRoute.newBuilder().setNamespace(NS).setMin(bytes(min)).setMax(bytes(max)).setShardId(shard).setState(ChunkState.ACTIVE)
            .setEpoch(1).setVersion(1).build();
    }

    private static ShardDescriptor shard(String id, ShardState state) {
        return ShardDescriptor.newBuilder().setShardId(id).setConnectionString("mongodb://" + id).setCapacityBytes(1).setCapacityOpsPerSec(1)
            .setState(state).setVersion(1).setUpdatedAt(Instant.EPOCH).build();
    }

    private static MigrationState migration(String id, String min, MigrationPhase phase) {
        return MigrationState.newBuilder().setMigrationId(id).setCommandId("c-" + id).setNamespace(NS).setChunkMin(bytes(min))
            .setSourceShardId("s1").setTargetShardId("s2").setPhase(phase).setStartedAt(Instant.EPOCH).setUpdatedAt(Instant.EPOCH).build();
    }

    private static void assertViolation(Runnable check, Subject subject, String message) {
        assertThatThrownBy(check::run).isInstanceOfSatisfying(Violation.class, v -> {
            assertThat(v.subject()).isEqualTo(subject);
            assertThat(v.getMessage()).contains(message);
        });
    }

    @Test
    void shouldFindAChunkByItsMinKeyOrNameTheNamespaceOrChunkAtFault() {
        List<ChunkRoute> routes = List.of(route("", "80", "s1"), route("80", null, "s2"));
        assertThat(CommandRules.chunk(routes, NS, "80").getShardId()).isEqualTo("s2");
        assertThat(CommandRules.chunk(routes, NS, "").getShardId()).isEqualTo("s1");
        assertViolation(() -> CommandRules.chunk(routes, NS, "40"), Subject.CHUNK, "no chunk of auth.users starts at 40");
        assertViolation(() -> CommandRules.chunk(List.of(), "auth.none", ""), Subject.NAMESPACE, "no routing for namespace auth.none");
    }

    @Test
    void shouldRefuseAChunkThatIsMigratingOrPlannedToMoveByAMigrationThatHasNotEnded() {
        ChunkRoute idle = route("", "80", "s1");
        assertThat(CommandRules.idle(idle, List.of(migration("done", "", MigrationPhase.CLEANED), migration("other", "80", MigrationPhase.COPYING))))
            .isSameAs(idle);
        ChunkRoute marked = ChunkRoute.newBuilder(idle).setState(ChunkState.MIGRATING).setMigrationId("m-1").build();
        assertViolation(() -> CommandRules.idle(marked, List.of()), Subject.CHUNK, "is migrating (MIGRATING, migration m-1)");
        assertViolation(() -> CommandRules.idle(idle, List.of(migration("m-2", "", MigrationPhase.PLANNED))), Subject.CHUNK,
            "is migrating (planned, PLANNED, migration m-2)");
    }

    @Test
    void shouldRequireARegisteredActiveShardNamingTheSubjectTheCallerAsked() {
        Map<String, ShardDescriptor> shards = Map.of("s1", shard("s1", ShardState.ACTIVE), "s2", shard("s2", ShardState.DRAINING));
        assertThat(CommandRules.activeShard(shards, Subject.TARGET, "s1").getShardId()).isEqualTo("s1");
        assertViolation(() -> CommandRules.activeShard(shards, Subject.TARGET, "s9"), Subject.TARGET, "no shard s9 is registered (known: [s1, s2])");
        assertViolation(() -> CommandRules.activeShard(shards, Subject.SHARD, "s2"), Subject.SHARD, "shard s2 is DRAINING, not ACTIVE");
        assertViolation(() -> CommandRules.unregistered(shards, "s1"), Subject.SHARD, "registered already");
        assertViolation(() -> CommandRules.unregistered(shards, " "), Subject.SHARD, "must not be blank");
        CommandRules.unregistered(shards, "s3");
    }

    @Test
    void shouldCheckTargetsAndSplitKeys() {
        ChunkRoute chunk = route("20", "80", "s1");
        assertViolation(() -> CommandRules.elsewhere(chunk, "s1"), Subject.TARGET, "the chunk is on s1 already");
        CommandRules.elsewhere(chunk, "s2");
        CommandRules.inside(chunk, "40");
        assertViolation(() -> CommandRules.inside(chunk, "20"), Subject.SPLIT_KEY, "key 20 is not inside the chunk [20, 80)");
        assertViolation(() -> CommandRules.inside(chunk, "80"), Subject.SPLIT_KEY, "not inside");
        CommandRules.inside(route("20", null, "s1"), "ff");
        assertViolation(() -> CommandRules.distinct("s1", "s1"), Subject.TARGET, "a shard cannot be merged into itself");
    }

    @Test
    void shouldActOnlyOnMigrationsThatHaveNotEndedAndAbortOnlyBeforeTheCutover() {
        Map<String, MigrationState> migrations = Map.of("m-1", migration("m-1", "", MigrationPhase.COPYING),
            "m-2", migration("m-2", "", MigrationPhase.ROLLED_BACK), "m-3", migration("m-3", "", MigrationPhase.CUT_OVER));
        assertThat(CommandRules.unfinished(migrations, "m-1").getPhase()).isEqualTo(MigrationPhase.COPYING);
        assertViolation(() -> CommandRules.unfinished(migrations, "m-9"), Subject.MIGRATION, "no migration m-9");
        assertViolation(() -> CommandRules.unfinished(migrations, "m-2"), Subject.MIGRATION, "has ended (ROLLED_BACK)");
        CommandRules.abortable(migrations.get("m-1"));
        assertViolation(() -> CommandRules.abortable(migrations.get("m-3")), Subject.MIGRATION, "has cut over; roll it back instead");
        assertThat(List.of(MigrationPhase.values())).filteredOn(phase -> MigrationPhases.ended(migration("m", "", phase)))
            .containsExactlyInAnyOrder(MigrationPhase.CLEANED, MigrationPhase.ABORTED, MigrationPhase.ROLLED_BACK);
    }

    private static io.shardline.core.routing.Zones zones() {
        ShardDescriptor s1 = ShardDescriptor.newBuilder(shard("s1", ShardState.ACTIVE)).setZones(List.of("eu")).build();
        ShardDescriptor s3 = ShardDescriptor.newBuilder(shard("s3", ShardState.DRAINING)).setZones(List.of("us")).build();
        io.shardline.schemas.avro.NamespaceConfig config = io.shardline.schemas.avro.NamespaceConfig.newBuilder().setNamespace(NS)
            .setStrategy(io.shardline.schemas.avro.ShardKeyStrategyType.TENANT).setShardKeyFields(List.of("tenantId"))
            .setThresholds(io.shardline.schemas.avro.Thresholds.newBuilder().build()).setZones(List.of(io.shardline.schemas.avro.ZoneRange.newBuilder()
                .setZone("eu").setMin(bytes("20")).setMax(bytes("40")).setTenant("acme").build())).setEpoch(1).setVersion(1).build();
        return io.shardline.core.routing.Zones.of(List.of(s1, shard("s2", ShardState.ACTIVE), s3), List.of(config));
    }

    @Test
    void shouldMoveAPinnedChunkOnlyToAnActiveShardOfItsZone() {
        CommandRules.inZone(zones(), route("20", "30", "s2"), "s1");
        CommandRules.inZone(zones(), route("50", "60", "s1"), "s2");
        assertViolation(() -> CommandRules.inZone(zones(), route("20", "30", "s1"), "s2"), Subject.TARGET, "s2 is not an ACTIVE shard of zone eu");
    }

    @Test
    void shouldPinARangeOnlyToAZoneWithAShardWithoutOverlappingAnotherZonesRange() {
        CommandRules.pinnable(zones(), NS, "eu", "40", "50");
        CommandRules.pinnable(zones(), NS, "eu", "20", "40");
        assertViolation(() -> CommandRules.pinnable(zones(), NS, "us", "50", null), Subject.ZONE, "zone us has no ACTIVE shard");
        assertViolation(() -> CommandRules.pinnable(zones(), NS, "eu", "30", "50"), Subject.RANGE, "overlaps [20, 40)");
        assertViolation(() -> CommandRules.pinnable(zones(), NS, "eu", "50", "50"), Subject.RANGE, "is empty");
    }

    @Test
    void shouldUnpinOnlyARangePinnedWithTheseBounds() {
        assertThat(CommandRules.pinned(zones(), NS, "20", "40").getTenant()).isEqualTo("acme");
        assertViolation(() -> CommandRules.pinned(zones(), NS, "20", null), Subject.RANGE, "no range [20, +inf)");
    }

    @Test
    void shouldReplaceOnlyALiveRegistrationWithAnEmptyActiveShardAndNoMigrationUnderWay() {
        Map<String, ShardDescriptor> shards = Map.of("s1", shard("s1", ShardState.ACTIVE), "s2", shard("s2", ShardState.ACTIVE),
            "r1", shard("r1", ShardState.ACTIVE), "old", shard("old", ShardState.RETIRED), "new", shard("new", ShardState.DRAINING));
        List<ChunkRoute> routes = List.of(route("", "80", "s1"), route("80", null, "s2"));

        CommandRules.replaceable(shards, routes, List.of(), "s1", "r1");
        assertViolation(() -> CommandRules.replaceable(shards, routes, List.of(), "nope", "r1"), Subject.SHARD, "no shard nope");
        assertViolation(() -> CommandRules.replaceable(shards, routes, List.of(), "old", "r1"), Subject.SHARD, "retired");
        assertViolation(() -> CommandRules.replaceable(shards, routes, List.of(), "s1", "new"), Subject.TARGET, "not ACTIVE");
        assertViolation(() -> CommandRules.replaceable(shards, routes, List.of(), "s1", "s2"), Subject.TARGET, "owns chunk 80");
        assertViolation(() -> CommandRules.replaceable(shards, routes, List.of(), "r1", "r1"), Subject.TARGET, "itself");
        assertViolation(() -> CommandRules.replaceable(shards, routes, List.of(migration("m1", "", MigrationPhase.COPYING)), "s1", "r1"),
            Subject.MIGRATION, "m1");
        CommandRules.replaceable(shards, routes, List.of(migration("m1", "", MigrationPhase.CLEANED)), "s1", "r1");
    }

    @Test
    void shouldGiveAStandbyOnlyToAnAnsweringShardWithoutOneAndOnlyAServerNoShardUses() {
        ShardDescriptor down = ShardDescriptor.newBuilder(shard("s2", ShardState.ACTIVE)).setHealth(io.shardline.schemas.avro.ShardHealth.DOWN).build();
        ShardDescriptor withStandby = ShardDescriptor.newBuilder(shard("s3", ShardState.ACTIVE)).setStandbyConnectionString("mongodb://s3b").build();
        Map<String, ShardDescriptor> shards = Map.of("s1", shard("s1", ShardState.ACTIVE), "s2", down, "s3", withStandby,
            "s4", shard("s4", ShardState.RETIRED));

        assertThat(CommandRules.standbyAddable(shards, "s1", "mongodb://s1b").getShardId()).isEqualTo("s1");
        assertViolation(() -> CommandRules.standbyAddable(shards, "s9", "mongodb://x"), Subject.SHARD, "no shard s9 is registered");
        assertViolation(() -> CommandRules.standbyAddable(shards, "s4", "mongodb://x"), Subject.SHARD, "RETIRED");
        assertViolation(() -> CommandRules.standbyAddable(shards, "s2", "mongodb://x"), Subject.SHARD, "is DOWN");
        assertViolation(() -> CommandRules.standbyAddable(shards, "s3", "mongodb://x"), Subject.SHARD, "has a standby already: mongodb://s3b");
        assertViolation(() -> CommandRules.standbyAddable(shards, "s1", "http://x"), Subject.TARGET, "not a mongodb://");
        assertViolation(() -> CommandRules.standbyAddable(shards, "s1", "mongodb://s1"), Subject.TARGET, "cannot be the shard itself");
        assertViolation(() -> CommandRules.standbyAddable(shards, "s1", "mongodb://s2"), Subject.TARGET, "in use by shard s2");
        assertViolation(() -> CommandRules.standbyAddable(shards, "s1", "mongodb://s3b"), Subject.TARGET, "in use by shard s3");
    }
}
