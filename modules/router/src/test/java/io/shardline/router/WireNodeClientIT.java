package io.shardline.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.bson.Document;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.shardline.core.routing.InitialChunks;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.router.wire.WireServer;
import io.shardline.schemas.avro.ShardKeyStrategyType;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;

/**
 * A second, independent client stack against the wire router: the Node.js MongoDB driver and Mongoose, installed with
 * npm from the project's own {@code src/test/node} (package.json and its lock), driven by {@code wire-client.mjs}. On
 * a machine without Node.js or npm, or where npm cannot install, the test is skipped and says why.
 */
@ShardlineCluster
class WireNodeClientIT {

    private static final Path SOURCES = Path.of("src", "test", "node");

    @Test
    void shouldServeTheNodeDriverAndMongooseAsMongosWould(EmbeddedCluster cluster, TestNames names) throws Exception {
        Path work = Path.of("target", "node-client");
        prepare(work);

        RouterFixture fixture = new RouterFixture(cluster, names);
        fixture.register("s1", cluster.shards().get("s1"));
        fixture.register("s2", cluster.shards().get("s2"));
        String database = names.database();
        fixture.namespace(database + ".node_users", ShardKeyStrategyType.HASHED, List.of("_id"),
            InitialChunks.layout(database + ".node_users", 1, InitialChunks.hashedBoundaries(4), List.of("s1", "s2")));
        fixture.namespace(database + ".node_sessions", ShardKeyStrategyType.TENANT, List.of("tenantId"),
            InitialChunks.layout(database + ".node_sessions", 1, InitialChunks.valueBoundaries(List.of("t1")), List.of("s1", "s2")));
        try (ShardRouter router = ShardRouter.start(RouterConfig.defaults(cluster.bootstrapServers(), fixture.catalog),
            new SimpleMeterRegistry(), Duration.ofSeconds(60));
             WireServer wire = WireServer.start(router, WireServer.Settings.defaults(0))) {
            Run run = run(work, 180, "node", "wire-client.mjs", wire.uri(), database);
            assertThat(run.exit()).as(run.output()).isZero();
            String json = run.output().lines().filter(line -> line.startsWith("{")).reduce((a, b) -> b).orElse("{}");
            Document seen = Document.parse(json);

            List<String> expectedOrder = IntStream.range(0, 60).boxed()
                .sorted(java.util.Comparator.comparingInt((Integer i) -> i % 7).thenComparing(i -> String.format("n%02d", i)))
                .map(i -> String.format("n%02d", i)).toList();
            assertThat(seen.getInteger("count")).isEqualTo(60);
            assertThat(seen.getList("sortedIds", String.class)).as("merged across two shards, paged by fours").isEqualTo(expectedOrder);
            assertThat(seen.getList("groups", Document.class)).containsExactly(new Document("_id", "t0").append("n", 20),
                new Document("_id", "t1").append("n", 20), new Document("_id", "t2").append("n", 20));
            assertThat(seen.getList("distinct", String.class)).containsExactly("t0", "t1", "t2");
            assertThat(seen.getInteger("modified")).isEqualTo((int) IntStream.range(0, 60).filter(i -> i % 7 == 3).count());
            assertThat(seen.get("duplicate", Document.class)).isEqualTo(new Document("code", 11000).append("index", 1).append("inserted", 1));
            assertThat(seen.getInteger("deleted")).isEqualTo(20);
            assertThat(seen.get("unknownCommand", Document.class)).isEqualTo(new Document("code", 59).append("codeName", "CommandNotFound"));
            assertThat(seen.getList("mongooseSessions", String.class)).containsExactly("s2", "s1");
            assertThat(seen.getString("mongooseLatest")).isEqualTo("s1");
            // Mongoose's connection.transaction across the two shards: committed whole, then one that throws, aborted whole.
            assertThat(seen.getInteger("txUpdated")).as("findOneAndUpdate in the transaction").isEqualTo(1);
            assertThat(seen.getInteger("txCountInside")).as("its own insert, counted in it").isEqualTo(1);
            assertThat(seen.getInteger("txCountOutside")).as("outside it before the commit").isZero();
            assertThat(seen.get("txCommitted", Document.class)).isEqualTo(new Document("logins", 1).append("userId", "tx-u1"));
            assertThat(seen.getString("txAbortError")).isEqualTo("changed its mind");
            assertThat(seen.get("txAborted", Document.class)).as("nothing of the aborted one").isEqualTo(new Document("users", 0).append("sessions", 1));
        }
    }

    /** Copies the client's sources to {@code work} and installs its packages, or skips the test saying why it cannot. */
    private static void prepare(Path work) throws Exception {
        Run node = tryRun(Path.of("."), 30, "node", "--version");
        Run npm = tryRun(Path.of("."), 30, "npm", "--version");
        skipUnless(node != null && node.exit() == 0 && npm != null && npm.exit() == 0,
            "Node.js and npm are not on this machine (node: " + describe(node) + ", npm: " + describe(npm) + ")");
        Files.createDirectories(work);
        for (String file : List.of("package.json", "package-lock.json", "wire-client.mjs")) {
            Files.copy(SOURCES.resolve(file), work.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        Run install = run(work, 300, "npm", "ci", "--no-audit", "--no-fund");
        skipUnless(install.exit() == 0, "npm could not install the Node.js driver and Mongoose from src/test/node: " + install.output());
    }

    private static void skipUnless(boolean condition, String reason) {
        if (!condition) {
            System.out.println("SKIPPED WireNodeClientIT: " + reason);
        }
        Assumptions.assumeTrue(condition, reason);
    }

    private static String describe(Run run) {
        return run == null ? "not found" : "exit " + run.exit() + " " + run.output().trim();
    }

    private record Run(int exit, String output) {
    }

    private static Run tryRun(Path dir, int timeoutSeconds, String... command) throws InterruptedException {
        try {
            return run(dir, timeoutSeconds, command);
        } catch (IOException notFound) {
            return null;
        }
    }

    private static Run run(Path dir, int timeoutSeconds, String... command) throws IOException, InterruptedException {
        Path log = Files.createTempFile("node-client-", ".log");
        Process process = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(dir.toFile()).redirectErrorStream(true)
            .redirectOutput(log.toFile()).start();
        boolean ended = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!ended) {
            process.destroyForcibly();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        Files.delete(log);
        return new Run(ended ? process.exitValue() : -1, ended ? output : output + "\n(timed out after " + timeoutSeconds + " s)");
    }
}
