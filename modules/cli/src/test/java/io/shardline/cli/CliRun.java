package io.shardline.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.TopicCatalog;
import picocli.CommandLine;

/**
 * What one {@code shardline} command printed and its exit code, run in this JVM against a test's control plane (the
 * cluster's broker and registry, the test's topic prefix), as an operator would type it.
 */
record CliRun(int exit, String out, String err) {

    static CliRun of(EmbeddedCluster cluster, TopicCatalog catalog, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = ShardlineCli.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap", cluster.bootstrapServers(), "--registry", cluster.schemaRegistryUrl(), "--topic-prefix", catalog.prefix()));
        int exit = cli.execute(all.toArray(String[]::new));
        return new CliRun(exit, out.toString(), err.toString());
    }
}
