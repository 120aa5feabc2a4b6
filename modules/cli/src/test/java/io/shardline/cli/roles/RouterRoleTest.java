package io.shardline.cli.roles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.shardline.router.wire.WireServer;
import io.shardline.router.wire.WireUsers;
import picocli.CommandLine;

/** The wire protocol options of {@code shardline router} reach the wire server's settings. */
class RouterRoleTest {

    private static RoleCommands.Router parse(String... args) {
        CommandLine cli = new CommandLine(new RoleCommands.Router());
        cli.parseArgs(args);
        return cli.getCommand();
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
