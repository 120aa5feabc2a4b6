package io.shardline.cli.roles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shardline.router.RouterConfig;
import io.shardline.router.wire.WireServer;
import io.shardline.router.wire.WireUsers;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import picocli.CommandLine;

/** The options of {@code shardline router} reach the router's and the wire server's settings. */
class RouterRoleTest {

    private static RoleCommands.Router parse(String... args) {
        CommandLine cli = new CommandLine(new RoleCommands.Router());
        cli.parseArgs(args);
        return cli.getCommand();
    }

    private static final TopicCatalog CATALOG = new TopicCatalog("acme.", new RegistrySerdes("http://127.0.0.1:1"));

    @Test
    void shouldGiveEachShardsConnectionPoolTheDriversSizeAndAWaitUnderTheShardTimeoutByDefault() {
        RouterConfig config = parse().config(CATALOG);

        assertThat(config.shardPoolSize()).isEqualTo(100);
        assertThat(config.shardPoolWait()).isEqualTo(Duration.ofSeconds(1)).isLessThan(config.shardTimeout());
        assertThat(config.fenceBudget()).isEqualTo(Duration.ofMillis(500));
        assertThat(config.routingStore()).as("the whole routing topic is read on start").isNull();
    }

    @Test
    void shouldKeepTheRoutingInTheDirectoryOfItsOption() {
        RouterConfig config = parse("--routing-store", "/var/lib/shardline/router-1").config(CATALOG);

        assertThat(config.routingStore()).isEqualTo(java.nio.file.Path.of("/var/lib/shardline/router-1"));
    }

    @Test
    void shouldGiveTheRouterThePoolSizeAndWaitOfItsOptions() {
        RouterConfig config = parse("--shard-pool-size", "8", "--shard-pool-wait", "250ms", "--shard-pool-idle", "30s", "--fence-budget", "2s")
            .config(CATALOG);

        assertThat(config.shardPoolSize()).isEqualTo(8);
        assertThat(config.shardPoolWait()).isEqualTo(Duration.ofMillis(250));
        assertThat(config.shardPoolIdle()).isEqualTo(Duration.ofSeconds(30));
        assertThat(parse().config(CATALOG).shardPoolIdle()).as("by default connections stay open").isZero();
        assertThat(config.fenceBudget()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void shouldRefuseAPoolThatCouldServeNothingNamingTheOption() {
        assertThatThrownBy(() -> parse("--shard-pool-size", "0").config(CATALOG))
            .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--shard-pool-size");
        assertThatThrownBy(() -> parse("--shard-pool-wait", "0s").config(CATALOG))
            .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--shard-pool-wait");
        assertThatThrownBy(() -> parse("--shard-pool-idle", "-1s").config(CATALOG))
            .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--shard-pool-idle");
        assertThatThrownBy(() -> parse("--shard-pool-wait", "soon"))
            .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--shard-pool-wait");
    }

    @Test
    void shouldGiveWritesTheStandbyAckTimeoutOfItsOption() {
        assertThat(parse().config(CATALOG).standbyAckTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(parse("--standby-ack-timeout", "750ms").config(CATALOG).standbyAckTimeout()).isEqualTo(Duration.ofMillis(750));
        assertThatThrownBy(() -> parse("--standby-ack-timeout", "0s").config(CATALOG))
            .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--standby-ack-timeout");
    }

    @Test
    void shouldRunTransactionsWithTheSettingsOfItsOptions() {
        assertThat(parse().config(CATALOG).transactions()).isEqualTo(RouterConfig.TransactionSettings.defaults());
        assertThat(parse("--txn-lock-timeout", "2s", "--txn-timeout", "500ms", "--txn-lifetime", "10s").config(CATALOG).transactions())
            .isEqualTo(new RouterConfig.TransactionSettings(Duration.ofSeconds(2), Duration.ofMillis(500), Duration.ofSeconds(10)));
        assertThatThrownBy(() -> parse("--txn-timeout", "10ms").config(CATALOG))
            .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--txn-timeout").hasMessageContaining("at least 30 ms");
        assertThatThrownBy(() -> parse("--txn-timeout", "5s", "--txn-lifetime", "1s").config(CATALOG))
            .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("lifetime must be at least the timeout");
    }

    @Test
    void shouldServeNoWireProtocolWithoutAMongoPort() {
        assertThat(parse().wire()).isNull();
    }

    @Test
    void shouldGiveTheWireServerThePortTimeoutTlsHostAndTheClusterFilesUsers(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("shardline.yaml");
        Files.writeString(file, """
            shards:
              - {id: s1, uri: "mongodb://a:27017", capacityBytes: 1000, capacityOpsPerSec: 10}
            namespaces:
              - {namespace: auth.users, strategy: hashed, shardKey: [_id]}
            users:
              - {name: service, passwordFile: secrets/service.password, roles: [readWrite]}
              - {name: acme-app, passwordFile: secrets/acme.password, roles: [read], tenant: acme}
            """);
        Files.createDirectories(dir.resolve("secrets"));
        Files.writeString(dir.resolve("secrets/service.password"), "service-secret\n");
        Files.writeString(dir.resolve("secrets/acme.password"), "acme-secret\n");

        WireServer.Settings wire = parse("--config", file.toString(), "--mongo-port", "27018", "--mongo-host", "10.1.2.3",
            "--mongo-cursor-timeout", "30s", "--mongo-tls-cert", "router.crt", "--mongo-tls-key", "router.key").wire();

        assertThat(wire.port()).isEqualTo(27018);
        assertThat(wire.host()).isEqualTo("10.1.2.3");
        assertThat(wire.cursorIdleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(wire.tls()).isEqualTo(new WireServer.Tls(Path.of("router.crt"), Path.of("router.key")));
        assertThat(wire.users().user("service")).hasValue(new WireUsers.User("service", Set.of(WireUsers.Role.READ_WRITE), null));
        assertThat(wire.users().user("acme-app")).hasValue(new WireUsers.User("acme-app", Set.of(WireUsers.Role.READ), "acme"));
    }

    @Test
    void shouldRefuseWireOptionsThatCannotWorkNamingThem(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> parse("--mongo-port", "0", "--mongo-tls-cert", "router.crt").wire())
            .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--mongo-tls-cert and --mongo-tls-key");
        assertThatThrownBy(() -> parse("--mongo-port", "0", "--mongo-cursor-timeout", "0s").wire())
            .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--mongo-cursor-timeout");
        Path file = dir.resolve("shardline.yaml");
        Files.writeString(file, """
            shards:
              - {id: s1, uri: "mongodb://a:27017", capacityBytes: 1000, capacityOpsPerSec: 10}
            namespaces:
              - {namespace: auth.users, strategy: hashed, shardKey: [_id]}
            users:
              - {name: service, passwordFile: missing.password, roles: [read]}
            """);
        assertThatThrownBy(() -> parse("--config", file.toString(), "--mongo-port", "0").wire())
            .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("users[0].passwordFile: cannot read");
    }
}
