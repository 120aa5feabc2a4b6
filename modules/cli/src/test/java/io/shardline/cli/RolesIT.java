package io.shardline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import com.mongodb.MongoCursorNotFoundException;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.MongoCursor;

import io.shardline.controlplane.ControlPlaneClient;
import io.shardline.embedded.ControlPlaneTopics;
import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.RegistrySerdes;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.ShardStats;
import io.shardline.testing.ShardlineClusterExtension;
import io.shardline.testing.TestNames;
import picocli.CommandLine;

/**
 * The roles as they are deployed: {@code router}, {@code controller} and {@code worker}, each a separate process from
 * the runnable jar, against the in-process broker, the registry, a Connect worker with Debezium and the embedded
 * shards, which they know only as MongoDB URIs registered by {@code init}. Writes through the router process reach
 * the controller process through CDC; a move published by the operator is carried out by the worker process.
 */
@ExtendWith(ShardlineClusterExtension.class)
class RolesIT {

    private final List<Process> processes = new ArrayList<>();

    @Test
    void shouldServeDecideAndMoveAsSeparateProcessesAgainstMongoUris(EmbeddedCluster cluster, TestNames names, @TempDir Path dir)
        throws Exception {
        TopicCatalog catalog = new TopicCatalog(names.topicPrefix(), new RegistrySerdes(cluster.schemaRegistryUrl()));
        String namespace = names.database() + ".users";
        Path file = dir.resolve("shardline.yaml");
        Files.writeString(file, """
            shards:
              - id: s1
                uri: %s
                capacityBytes: 100000000
                capacityOpsPerSec: 1000
              - id: s2
                uri: %s
                capacityBytes: 100000000
                capacityOpsPerSec: 1000
            namespaces:
              - namespace: %s
                strategy: hashed
                shardKey: [userId]
                initialChunks: 2
            users:
              - name: service
                passwordFile: service.password
                roles: [read]
            """.formatted(cluster.shards().get("s1").connectionString(), cluster.shards().get("s2").connectionString(), namespace));
        Files.writeString(dir.resolve("service.password"), "s3cret-pass\n");
        assertThat(cli(cluster, catalog, "init", "--config", file.toString())).isZero();
        ControlPlaneTopics.ensureCdc(cluster.bootstrapServers(), List.of("s1", "s2"), List.of(namespace), (short) 1);
        try {
            Process router = role(cluster, catalog, dir, "router", "--port", "0", "--host", "127.0.0.1", "--mongo-port", "0",
                "--mongo-cursor-timeout", "1s", "--config", file.toString(), "--mongo-host", "127.0.0.1");
            Process controller = role(cluster, catalog, dir, "controller", "--state-dir", dir.resolve("controller").toString(),
                "--decision-window", "2s");
            Process worker = role(cluster, catalog, dir, "worker", "--grace-period", "2s");
            String routerUrl = awaitLine(router, "ROUTER_URL=").substring("ROUTER_URL=".length());
            String mongoUri = awaitLine(router, "MONGO_ROUTER_URI=").substring("MONGO_ROUTER_URI=".length());
            awaitLine(router, "READY");
            awaitLine(controller, "READY");
            awaitLine(worker, "READY");

            HttpClient http = HttpClient.newHttpClient();
            StringBuilder documents = new StringBuilder();
            for (int i = 0; i < 50; i++) {
                documents.append(i == 0 ? "" : ",").append("{\"_id\": \"u").append(i).append("\", \"userId\": \"u").append(i).append("\"}");
            }
            HttpResponse<String> inserted = http.send(HttpRequest.newBuilder(URI.create(routerUrl + "/v1/" + namespace.replace('.', '/') + "/insert"))
                .header("X-Tenant-Id", "acme").POST(HttpRequest.BodyPublishers.ofString("{\"documents\": [" + documents + "]}")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(inserted.statusCode()).as(inserted.body()).isEqualTo(200);
            assertThat(inserted.body()).contains("\"inserted\": 50");

            // The controller process counts them from CDC and publishes its window's stats.
            long counted = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            try (ControlPlaneClient plane = new ControlPlaneClient(cluster.bootstrapServers(), catalog)) {
                while (counted < 50 && System.nanoTime() < deadline) {
                    counted = plane.stats().values().stream().mapToLong(ShardStats::getDocumentCount).sum();
                    Thread.sleep(500);
                }
            }
            assertThat(counted).as("documents the controller counted").isEqualTo(50);

            // The worker process carries out a move published by the operator.
            StringWriter out = new StringWriter();
            int moved = cli(cluster, catalog, out, "move-chunk", "--ns", namespace, "--chunk", "min", "--to", "s2", "--wait", "--wait-timeout", "2m");
            assertThat(moved).as(out.toString()).isZero();
            assertThat(out.toString()).contains("CLEANED", "done");
            HttpResponse<String> found = http.send(HttpRequest.newBuilder(URI.create(routerUrl + "/v1/" + namespace.replace('.', '/') + "/count"))
                .header("X-Tenant-Id", "acme").POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(found.body()).contains("50");
            try (MongoClient anonymous = MongoClients.create(mongoUri)) {
                assertThatThrownBy(() -> anonymous.getDatabase("any").getCollection("any").countDocuments())
                    .as("the cluster file's users are required").isInstanceOf(com.mongodb.MongoCommandException.class)
                    .hasMessageContaining("requires authentication");
            }
            try (MongoClient wire = MongoClients.create(com.mongodb.MongoClientSettings.builder()
                .applyConnectionString(new com.mongodb.ConnectionString(mongoUri))
                .credential(com.mongodb.MongoCredential.createCredential("service", "admin", "s3cret-pass".toCharArray())).build())) {
                MongoCollection<Document> users = wire.getDatabase(namespace.substring(0, namespace.indexOf('.')))
                    .getCollection(namespace.substring(namespace.indexOf('.') + 1));
                assertThat(users.countDocuments()).as("the same documents over the wire protocol").isEqualTo(50);
                MongoCursor<Document> idle = users.find().batchSize(2).cursor();
                idle.next();
                idle.next();
                Thread.sleep(3_000);
                assertThatThrownBy(idle::next).as("--mongo-cursor-timeout 1s").isInstanceOf(MongoCursorNotFoundException.class);
            }
            StringWriter verified = new StringWriter();
            assertThat(cli(cluster, catalog, verified, "verify", "--ns", namespace)).as(verified.toString()).isZero();
        } finally {
            for (Process process : processes) {
                process.destroy();
            }
            for (Process process : processes) {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
        }
    }

    private Process role(EmbeddedCluster cluster, TopicCatalog catalog, Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
            "-jar", System.getProperty("shardline.jar")));
        command.addAll(List.of(args));
        command.addAll(List.of("--bootstrap", cluster.bootstrapServers(), "--registry", cluster.schemaRegistryUrl(), "--topic-prefix", catalog.prefix()));
        Process process = new ProcessBuilder(command).redirectError(dir.resolve(args[0] + ".log").toFile()).start();
        processes.add(process);
        return process;
    }

    /** Reads the process's output until a line starts with the prefix; returns that line. */
    private static String awaitLine(Process process, String prefix) throws Exception {
        BufferedReader reader = readers.computeIfAbsent(process, p -> new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)));
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                String read;
                while ((read = reader.readLine()) != null) {
                    if (read.startsWith(prefix)) {
                        return read;
                    }
                }
                return null;
            } catch (java.io.IOException e) {
                return null;
            }
        });
        String found = line.get(3, TimeUnit.MINUTES);
        assertThat(found).as("a line starting with " + prefix).isNotNull();
        return found;
    }

    private static final java.util.Map<Process, BufferedReader> readers = new java.util.concurrent.ConcurrentHashMap<>();

    private static int cli(EmbeddedCluster cluster, TopicCatalog catalog, String... args) {
        return cli(cluster, catalog, new StringWriter(), args);
    }

    private static int cli(EmbeddedCluster cluster, TopicCatalog catalog, StringWriter out, String... args) {
        CommandLine cli = ShardlineCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(out, true));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--bootstrap", cluster.bootstrapServers(), "--registry", cluster.schemaRegistryUrl(), "--topic-prefix", catalog.prefix()));
        return cli.execute(all.toArray(String[]::new));
    }
}
