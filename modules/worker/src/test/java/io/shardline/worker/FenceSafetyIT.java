package io.shardline.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.shardline.embedded.EmbeddedCluster;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.RouterAck;
import io.shardline.testing.ShardlineCluster;
import io.shardline.testing.TestNames;
import io.shardline.controlplane.TopicTable;

/**
 * A router that stops acknowledging (its process paused with SIGSTOP) while a chunk moves: the fence times out and
 * is lifted while its lease runs, writes through the other router go on without loss, the move completes once the
 * paused router's lease has expired, and when the paused router resumes it never writes to the old owner.
 */
@ShardlineCluster
class FenceSafetyIT {

    /**
     * The paused router's lease: long enough to outlast starting a worker and copying the range on a loaded machine, so
     * that the first fence comes while the lease runs.
     */
    private static final long PAUSED_LEASE_MILLIS = 30_000;

    @Test
    void shouldTimeOutTheFenceOnAPausedRouterAndNeverLetItWriteToTheOldOwner(EmbeddedCluster cluster, TestNames names) throws Exception {
        try (MigrationFixture fixture = new MigrationFixture(cluster, names, Duration.ofSeconds(5))) {
            Process paused = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), RouterProcessMain.class.getName(), cluster.bootstrapServers(), cluster.schemaRegistryUrl(),
                fixture.catalog.prefix(), "paused-router", Long.toString(PAUSED_LEASE_MILLIS)).redirectErrorStream(true).start();
            try (TopicTable<RouterAck> acks = new TopicTable<>(cluster.bootstrapServers(), fixture.catalog.routerAcks(), fixture.catalog.controlDlq().name(), "test")) {
                String url = routerUrl(paused);
                awaitLiveAck(acks, "paused-router");
                MigrationFixture.Load load = fixture.new Load(2, 1);
                Thread.sleep(1_000);

                signal(paused, "STOP");
                long stoppedAt = System.currentTimeMillis();
                String command;
                MigrationState cleaned;
                try (MigrationWorker worker = fixture.worker(fixture.workerConfig()
                    .withFence(Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(3), Duration.ofMillis(500)))) {
                    command = fixture.moveLowerChunk();
                    cleaned = fixture.awaitMigration(command, MigrationFixture.in(MigrationPhase.CLEANED), Duration.ofMinutes(2));
                }
                assertThat(cleaned.getStartedAt().toEpochMilli()).as("the move started while the paused router's lease ran")
                    .isLessThan(stoppedAt + PAUSED_LEASE_MILLIS);
                assertThat(cleaned.getFenceAttempts()).as("fences tried while the paused router's lease ran").isGreaterThan(1);

                signal(paused, "CONT");
                HttpClient http = HttpClient.newHttpClient();
                int refused = 0;
                int written = 0;
                long until = System.currentTimeMillis() + 4_000;
                for (int i = 0; System.currentTimeMillis() < until; i++) {
                    String id = "late-" + i;
                    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url + "/v1/" + fixture.namespace.replace('.', '/') + "/insert"))
                        .header("X-Tenant-Id", MigrationFixture.TENANT).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"documents\": [{\"_id\": \"" + id + "\", \"userId\": \"" + id + "\", \"v\": " + i + "}]}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() / 100 == 2) {
                        written++;
                        load.acknowledged.put(id, i);
                    } else {
                        refused++;
                        load.uncertain.computeIfAbsent(id, k -> java.util.concurrent.ConcurrentHashMap.newKeySet()).addAll(List.of(-1, i));
                        load.acknowledged.putIfAbsent(id, -1);
                    }
                    Thread.sleep(20);
                }
                load.close();
                System.out.printf("paused router after resuming: %d writes refused, then %d written%n", refused, written);
                assertThat(written).as("the resumed router serves again once it caught up").isPositive();
                fixture.check(load);
            } finally {
                paused.destroyForcibly().waitFor();
            }
        }
    }

    private static String routerUrl(Process process) throws Exception {
        BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream()));
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        String line;
        while (System.nanoTime() < deadline && (line = reader.readLine()) != null) {
            if (line.startsWith("ROUTER_URL=")) {
                Thread drain = new Thread(() -> reader.lines().forEach(l -> { }), "router-output");
                drain.setDaemon(true);
                drain.start();
                return line.substring("ROUTER_URL=".length());
            }
        }
        throw new AssertionError("the router process never printed its URL");
    }

    private static void awaitLiveAck(TopicTable<RouterAck> acks, String routerId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            RouterAck ack = acks.refresh().get(routerId);
            if (ack != null && ack.getLeaseExpiresAt().toEpochMilli() > System.currentTimeMillis()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no live ack from " + routerId);
    }

    private static void signal(Process process, String signal) throws Exception {
        assertThat(new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start().waitFor()).isZero();
    }
}
