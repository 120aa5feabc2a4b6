package io.shardline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/**
 * {@code shardline demo} as a user runs it, from the runnable jar with stdout to a file (so in plain mode): within its
 * duration a shard crosses its storage or query-load threshold and is split, a chunk moves live, retention and quiet traffic let a
 * shard be merged away, and the closing check finds every acknowledged write as acknowledged.
 */
class DemoCommandIT {

    @Test
    void shouldSplitMoveAndMergeAutomaticallyWithoutLosingAnAcknowledgedWrite() throws Exception {
        Path dir = Files.createTempDirectory("demo-it-");
        Path out = dir.resolve("demo.out");
        Process demo = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx1500m", "-jar", System.getProperty("shardline.jar"), "demo", "--duration", "150s", "--seed-share", "0.4",
            "--topic-prefix", "demoit.")
            .redirectOutput(out.toFile()).redirectError(dir.resolve("demo.log").toFile()).start();
        try {
            assertThat(demo.waitFor(8, TimeUnit.MINUTES)).as("demo ends").isTrue();
            String report = Files.readString(out, StandardCharsets.UTF_8);
            assertThat(demo.exitValue()).as(report).isZero();
            assertThat(report).contains("== Shardline demo report ==", "lost: 0, duplicated: 0, deleted but back: 0, written by nobody: 0")
                .doesNotContain("\u001b[");
            Matcher decisions = Pattern.compile("decisions: (\\d+) split, (\\d+) move, (\\d+) merge").matcher(report);
            assertThat(decisions.find()).as(report).isTrue();
            // The timeline without the live view's per-migration lines: what was decided when, and why not sooner.
            String timeline = report.lines().filter(line -> !line.startsWith("migration ")).collect(Collectors.joining("\n"));
            assertThat(Integer.parseInt(decisions.group(1))).as("splits in\n%s", timeline).isPositive();
            assertThat(Integer.parseInt(decisions.group(3))).as("merges in\n%s", timeline).isPositive();
            assertThat(report).as("a merged shard retires").containsPattern("s\\d +\\d+ +0 +RETIRED");
            assertThat(report).containsPattern("CLEANED, [\\d,]+ docs copied; command to cutover");
            assertThat(report).containsPattern("MONGO_ROUTER_URI=mongodb://127\\.0\\.0\\.1:\\d+/");
            assertThat(report).as("reads through the wire router").containsPattern("single-shard find, wire +n=[1-9]")
                .containsPattern("scatter-gather find, wire +n=[1-9]");
            assertThat(report).as("backups during the run, every shard restored to a moment in the middle, checked against the ledger")
                .containsPattern("backups: 3 shards, [\\d,]+ documents")
                .containsPattern("point-in-time restore: every shard restored to \\S+ \\(backup \\+ [\\d,]+ changes\\).*missing 0, wrong value 0, duplicated 0, unknown 0");
            assertThat(report).as("a shard killed mid-run, failed over to its standby, with the ledger check above on the promoted standby")
                .containsPattern("failover: s\\d killed mid-run; DOWN \\d+ ms after the kill; promotion \\d+ ms .*the standby serving \\d+ ms after the kill");
            assertThat(report).as("sign-ups and user deletions as transactions, each whole or absent on the shards")
                .containsPattern("transactions: [1-9][\\d,]* committed, [\\d,]+ aborted, 0 partial");
        } finally {
            demo.descendants().forEach(ProcessHandle::destroyForcibly);
            demo.destroyForcibly();
        }
    }
}
