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
}
