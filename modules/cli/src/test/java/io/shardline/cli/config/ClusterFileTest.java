package io.shardline.cli.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.schemas.avro.WriteDurability;

class ClusterFileTest {

    private static final String VALID = """
        shards:
          - id: s1
            uri: mongodb://mongo-s1:27017/?replicaSet=rs-s1
            capacityBytes: 268_435_456
            capacityOpsPerSec: 2000
          - id: s2
            uri: mongodb://mongo-s2:27017/?replicaSet=rs-s2
            capacityBytes: 268435456
            capacityOpsPerSec: 2000
        namespaces:
          - namespace: auth.users
            strategy: tenant
            shardKey: [tenantId, _id]
            tenantSuffixBuckets: 16
            initialChunks: 6
            thresholds: {splitStorage: 0.75, merge: 0.1, sustainedWindows: 5, minChunkAge: 5m}
          - namespace: auth.audit_entries
            strategy: time
            shardKey: [tenantId, at]
            timeBucket: 1h
            durability: primary
        """;

    @Test
    void shouldReadShardsAndNamespacesWithTheirSettingsAndDefaults() {
        ClusterFile file = ClusterFile.parse("shardline.yaml", VALID);

        assertThat(file.shards()).extracting(s -> s.getShardId()).containsExactly("s1", "s2");
        assertThat(file.shards().get(0).getCapacityBytes()).isEqualTo(268_435_456L);
        ClusterFile.Namespace users = file.namespaces().get(0);
        assertThat(users.config().getStrategy()).isEqualTo(ShardKeyStrategyType.TENANT);
        assertThat(users.config().getShardKeyFields()).containsExactly("tenantId", "_id");
        assertThat(users.config().getTenantSuffixBuckets()).isEqualTo(16);
        assertThat(users.initialChunks()).isEqualTo(6);
        assertThat(users.config().getThresholds().getSplitStorageRatio()).isEqualTo(0.75);
        assertThat(users.config().getThresholds().getSplitLoadRatio()).isEqualTo(0.7);
        assertThat(users.config().getThresholds().getMergeRatio()).isEqualTo(0.1);
        assertThat(users.config().getThresholds().getSustainedWindows()).isEqualTo(5);
        assertThat(users.config().getThresholds().getMinChunkAgeMillis()).isEqualTo(300_000L);
        ClusterFile.Namespace audit = file.namespaces().get(1);
        assertThat(audit.config().getTimeBucketMillis()).isEqualTo(3_600_000L);
        assertThat(audit.initialChunks()).as("two per shard").isEqualTo(4);
        assertThat(audit.config().getDurability()).isEqualTo(WriteDurability.PRIMARY);
        assertThat(users.config().getDurability()).as("the safe one by default").isEqualTo(WriteDurability.STANDBY);
    }

    @Test
    void shouldNameAnUnknownDurability() {
        assertThatThrownBy(() -> ClusterFile.parse("shardline.yaml", VALID.replace("durability: primary", "durability: disk")))
            .hasMessageContaining("namespaces[1].durability").hasMessageContaining("'disk' is not one of standby, primary");
    }

    @Test
    void shouldReadZonesOfShardsAndTheRangesAndTenantsPinnedToThem() {
        ClusterFile file = ClusterFile.parse("shardline.yaml", """
            shards:
              - {id: s1, uri: "mongodb://a", capacityBytes: 1, capacityOpsPerSec: 1, zones: [eu]}
              - {id: s2, uri: "mongodb://b", capacityBytes: 1, capacityOpsPerSec: 1, zones: [eu, us]}
            namespaces:
              - namespace: auth.users
                strategy: tenant
                shardKey: [tenantId]
                zones:
                  - {zone: eu, tenant: acme}
                  - {zone: us, min: "7a", max: "7b00"}
            """);

        assertThat(file.shards().get(1).getZones()).containsExactly("eu", "us");
        var ranges = file.namespaces().get(0).config().getZones();
        assertThat(ranges).extracting(r -> r.getZone()).containsExactly("eu", "us");
        assertThat(ranges.get(0).getTenant()).isEqualTo("acme");
        assertThat(io.shardline.core.key.KeyHex.of(ranges.get(1).getMin())).isEqualTo("7a");
        assertThat(io.shardline.core.key.KeyHex.of(ranges.get(1).getMax())).isEqualTo("7b00");
    }

    @Test
    void shouldNameWhatIsWrongWithAZoneDeclaration() {
        assertThatThrownBy(() -> ClusterFile.parse("shardline.yaml", """
            shards:
              - {id: s1, uri: "mongodb://a", capacityBytes: 1, capacityOpsPerSec: 1, zones: [eu]}
            namespaces:
              - namespace: auth.users
                strategy: tenant
                shardKey: [tenantId]
                zones:
                  - {zone: us, tenant: acme}
                  - {zone: eu, min: "00", max: "ff", tenant: globex}
                  - {zone: eu, min: "zz"}
              - namespace: auth.sessions
                strategy: hashed
                shardKey: [userId]
                zones:
                  - {zone: eu, tenant: acme}
            """)).isInstanceOf(ClusterFile.Invalid.class).satisfies(e -> assertThat(((ClusterFile.Invalid) e).problems()).anySatisfy(
                p -> assertThat(p).contains("namespaces[0].zones", "zone us has no shard"))
            .anySatisfy(p -> assertThat(p).contains("namespaces[0].zones[1]", "either a tenant or min"))
            .anySatisfy(p -> assertThat(p).contains("namespaces[0].zones[2]", "hex keys"))
            .anySatisfy(p -> assertThat(p).contains("namespaces[1].zones[0].tenant", "not grouped by tenant")));
    }

    @Test
    void shouldReadTheBackupScheduleAndNameWhatIsWrongWithIt() {
        String shardsAndNamespaces = """
            shards:
              - {id: s1, uri: "mongodb://a", capacityBytes: 1, capacityOpsPerSec: 1}
            namespaces:
              - {namespace: auth.users, strategy: hashed, shardKey: [userId]}
            """;
        assertThat(ClusterFile.parse("c.yaml", shardsAndNamespaces).backup()).isNull();
        ClusterFile.Backup backup = ClusterFile.parse("c.yaml", shardsAndNamespaces + "backup: {every: 30m, keep: 4, dir: /b, staleAfter: 2h}\n").backup();
        assertThat(backup).isEqualTo(new ClusterFile.Backup(java.time.Duration.ofMinutes(30), 4, "/b", false, java.time.Duration.ofHours(2)));

        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> ClusterFile.parse("c.yaml", shardsAndNamespaces
            + "backup: {every: soon, keep: 0, gzip: maybe, colour: blue}\n"));
        assertThat(((ClusterFile.Invalid) thrown).problems())
            .anySatisfy(p -> assertThat(p).contains("backup.every", "duration"))
            .anySatisfy(p -> assertThat(p).contains("backup.keep", "positive"))
            .anySatisfy(p -> assertThat(p).contains("backup.dir", "required"))
            .anySatisfy(p -> assertThat(p).contains("backup.gzip", "true or false"))
            .anySatisfy(p -> assertThat(p).contains("backup.colour"));
    }

    @Test
    void shouldNameTheLineOfMalformedYaml() {
        assertThatThrownBy(() -> ClusterFile.parse("shardline.yaml", "shards:\n  - id: s1\n    uri: [unclosed\n"))
            .isInstanceOf(ClusterFile.Invalid.class).hasMessageStartingWith("shardline.yaml:").hasMessageContaining("not valid YAML");
    }

    @Test
    void shouldReportEveryProblemWithItsLineAndField() {
        String broken = """
            shards:
              - id: s1
                uri: http://not-mongo
                capacityBytes: lots
                capacityOpsPerSec: 2000
              - id: s1
                uri: mongodb://b
                capacityBytes: 1
                capacityOpsPerSec: 1
                colour: blue
            namespaces:
              - namespace: auth.users
                strategy: alphabetical
                shardKey: [tenantId]
              - namespace: auth.sessions
                strategy: hashed
                shardKey: userId
              - namespace: auth.audit
                strategy: time
                shardKey: [tenantId, at]
                thresholds: {merge: 0.5}
            """;

        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> ClusterFile.parse("c.yaml", broken));

        assertThat(thrown).isInstanceOf(ClusterFile.Invalid.class);
        assertThat(((ClusterFile.Invalid) thrown).problems()).containsExactlyInAnyOrder(
            "c.yaml:4: shards[0].capacityBytes: must be a positive integer, was 'lots'",
            "c.yaml:3: shards[0].uri: must be a MongoDB connection string (mongodb:// or mongodb+srv://)",
            "c.yaml:10: shards[1].colour: unknown field (known: capacityBytes, capacityOpsPerSec, id, uri, zones)",
            "c.yaml:6: shards[1].id: shard s1 is declared twice",
            "c.yaml:13: namespaces[0].strategy: 'alphabetical' is not one of tenant, hashed, time",
            "c.yaml:17: namespaces[1].shardKey: must be a list of field names",
            "c.yaml:21: namespaces[2].thresholds.merge: must stay under half the split ratios, or a merge would be split again",
            "c.yaml:18: namespaces[2]: auth.audit: timeBucketMillis is required for strategy TIME");
    }

    @Test
    void shouldRequireShardsAndNamespaces() {
        assertThatThrownBy(() -> ClusterFile.parse("c.yaml", "shards: []\n"))
            .isInstanceOf(ClusterFile.Invalid.class).hasMessageContaining("c.yaml:1: shards: must not be empty")
            .hasMessageContaining("namespaces: is required");
    }

    @Test
    void shouldReadTheWireProtocolsUsersAndNameWhatIsWrongWithThem() {
        ClusterFile file = ClusterFile.parse("c.yaml", VALID + """
            users:
              - name: auth-service
                passwordFile: secrets/auth.password
                roles: [readWrite]
              - name: acme-app
                passwordFile: acme.password
                roles: [read]
                tenant: acme
            """);
        assertThat(file.users()).containsExactly(
            new ClusterFile.User("auth-service", "secrets/auth.password", java.util.List.of("readWrite"), null),
            new ClusterFile.User("acme-app", "acme.password", java.util.List.of("read"), "acme"));
        assertThat(ClusterFile.parse("c.yaml", VALID).users()).isEmpty();

        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> ClusterFile.parse("c.yaml", VALID + """
            users:
              - name: a
                passwordFile: a.password
                roles: [superuser]
              - name: b
                passwordFile: b.password
                roles: [admin]
                tenant: acme
              - name: a
                passwordFile: c.password
                roles: [read]
              - name: d
                roles: []
            """));
        assertThat(((ClusterFile.Invalid) thrown).problems()).containsExactlyInAnyOrder(
            "c.yaml:25: users[0].roles: 'superuser' is not one of read, readWrite, admin",
            "c.yaml:28: users[1].roles: a user bound to tenant acme cannot be admin (administration reaches every tenant)",
            "c.yaml:30: users[2].name: user a is declared twice",
            "c.yaml:33: users[3].passwordFile: is required",
            "c.yaml:34: users[3].roles: must be a non-empty list of read, readWrite, admin");
    }
}
