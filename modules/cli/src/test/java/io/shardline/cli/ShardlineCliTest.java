package io.shardline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

class ShardlineCliTest {

    private static int run(StringWriter err, String... args) {
        CommandLine cli = ShardlineCli.commandLine();
        cli.setErr(new PrintWriter(err));
        cli.setOut(new PrintWriter(new StringWriter()));
        return cli.execute(args);
    }

    @Test
    void shouldExitWithUsageErrorAndNameTheOptionWhenShardsIsNotANumber() {
        StringWriter err = new StringWriter();

        int exit = run(err, "up", "--shards", "many");

        assertThat(exit).isEqualTo(ShardlineCli.EXIT_USAGE);
        assertThat(err.toString()).contains("--shards");
    }

    @Test
    void shouldExitWithUsageErrorWhenShardsIsBelowOne() {
        StringWriter err = new StringWriter();

        int exit = run(err, "up", "--shards", "0");

        assertThat(exit).isEqualTo(ShardlineCli.EXIT_USAGE);
        assertThat(err.toString()).contains("--shards must be at least 1");
    }

    @Test
    void shouldDescribeEveryOptionOfUpInItsHelp() {
        StringWriter out = new StringWriter();
        CommandLine cli = ShardlineCli.commandLine();
        cli.setOut(new PrintWriter(out));

        int exit = cli.execute("up", "--help");

        assertThat(exit).isZero();
        assertThat(out.toString()).contains("--shards", "--topic-prefix", "--work-dir", "--no-cdc");
    }

    @Test
    void shouldKillAShardInTheDemoUnlessToldNotTo() {
        DemoCommand on = new DemoCommand();
        new picocli.CommandLine(on).parseArgs();
        DemoCommand off = new DemoCommand();
        new picocli.CommandLine(off).parseArgs("--no-failover");

        assertThat(on.failover).isTrue();
        assertThat(off.failover).isFalse();
    }

    @Test
    void shouldRefuseDemoSettingsThatCannotWorkNamingTheOption() {
        StringWriter growErr = new StringWriter();
        StringWriter seedErr = new StringWriter();
        StringWriter durationErr = new StringWriter();

        assertThat(run(growErr, "demo", "--grow-share", "1.5")).isEqualTo(ShardlineCli.EXIT_USAGE);
        assertThat(run(seedErr, "demo", "--seed-share", "0.9")).isEqualTo(ShardlineCli.EXIT_USAGE);
        assertThat(run(durationErr, "demo", "--duration", "soon")).isEqualTo(ShardlineCli.EXIT_USAGE);

        assertThat(growErr.toString()).contains("--grow-share must be between 0 and 1");
        assertThat(seedErr.toString()).contains("--seed-share must be at least 0 and under the split threshold");
        assertThat(durationErr.toString()).contains("'soon' is not a duration");
    }

    @Test
    void shouldSignATokenForTheSubjectRolesAndValidityAsked() throws Exception {
        java.nio.file.Path secret = java.nio.file.Files.createTempFile("jwt", ".secret");
        java.nio.file.Files.writeString(secret, "0123456789abcdef0123456789abcdef");
        StringWriter out = new StringWriter();
        CommandLine cli = ShardlineCli.commandLine();
        cli.setOut(new PrintWriter(out));

        int exit = cli.execute("token", "--subject", "alice", "--role", "admin,viewer", "--expires-in", "90s", "--jwt-secret-file", secret.toString());
        StringWriter badRole = new StringWriter();
        int refused = run(badRole, "token", "--subject", "bob", "--role", "root", "--jwt-secret-file", secret.toString());

        assertThat(exit).isZero();
        String payload = new String(java.util.Base64.getUrlDecoder().decode(out.toString().strip().split("\\.")[1]),
            java.nio.charset.StandardCharsets.UTF_8);
        com.fasterxml.jackson.databind.JsonNode claims = new com.fasterxml.jackson.databind.ObjectMapper().readTree(payload);
        assertThat(claims.get("sub").asText()).isEqualTo("alice");
        assertThat(claims.get("roles").toString()).isEqualTo("[\"admin\",\"viewer\"]");
        assertThat(claims.get("exp").asLong() - claims.get("iat").asLong()).isEqualTo(90);
        assertThat(refused).isEqualTo(ShardlineCli.EXIT_USAGE);
        assertThat(badRole.toString()).contains("--role: 'root' is not admin or viewer");
    }

    @Test
    void shouldPrintOneLineWithoutAStackTraceForAnArgumentFoundWrongAtRunTime() throws Exception {
        java.nio.file.Path secret = java.nio.file.Files.createTempFile("jwt", ".secret");
        java.nio.file.Files.writeString(secret, "0123456789abcdef0123456789abcdef");
        java.util.Map<String, String[]> cases = java.util.Map.of(
            "--format: 'xml' is not one of table, json, csv", new String[] {"routing", "--format", "xml"},
            "--limit must be >= 0, was -1", new String[] {"events", "--limit", "-1"},
            "--role: 'root' is not admin or viewer", new String[] {"token", "--subject", "bob", "--role", "root", "--jwt-secret-file", secret.toString()});

        for (java.util.Map.Entry<String, String[]> refused : cases.entrySet()) {
            StringWriter err = new StringWriter();
            int exit = run(err, refused.getValue());
            assertThat(exit).as(err.toString()).isEqualTo(ShardlineCli.EXIT_USAGE);
            assertThat(err.toString().strip()).as("one line").doesNotContain("\n").contains(refused.getKey()).doesNotContain("Exception", "\tat ");
        }
    }

    @Test
    void shouldSignTokensOnlyUpToTheMaximumLifetime() throws Exception {
        java.nio.file.Path secret = java.nio.file.Files.createTempFile("jwt", ".secret");
        java.nio.file.Files.writeString(secret, "0123456789abcdef0123456789abcdef");
        StringWriter tooLong = new StringWriter();
        StringWriter none = new StringWriter();
        StringWriter out = new StringWriter();
        CommandLine cli = ShardlineCli.commandLine();
        cli.setOut(new PrintWriter(out));

        int refused = run(tooLong, "token", "--subject", "a", "--role", "admin", "--expires-in", "48h", "--jwt-secret-file", secret.toString());
        int zero = run(none, "token", "--subject", "a", "--role", "admin", "--expires-in", "0s", "--jwt-secret-file", secret.toString());
        int allowed = cli.execute("token", "--subject", "a", "--role", "admin", "--expires-in", "48h", "--max-token-lifetime", "72h",
            "--jwt-secret-file", secret.toString());

        assertThat(refused).isEqualTo(ShardlineCli.EXIT_USAGE);
        assertThat(tooLong.toString()).contains("--expires-in", "--max-token-lifetime");
        assertThat(zero).isEqualTo(ShardlineCli.EXIT_USAGE);
        assertThat(allowed).isZero();
        String payload = new String(java.util.Base64.getUrlDecoder().decode(out.toString().strip().split("\\.")[1]),
            java.nio.charset.StandardCharsets.UTF_8);
        com.fasterxml.jackson.databind.JsonNode claims = new com.fasterxml.jackson.databind.ObjectMapper().readTree(payload);
        assertThat(claims.get("exp").asLong() - claims.get("iat").asLong()).isEqualTo(48 * 3600);
    }
}
