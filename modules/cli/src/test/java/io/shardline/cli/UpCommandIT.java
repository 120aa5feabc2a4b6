package io.shardline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.bson.Document;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;

/**
 * {@code shardline up} as a user runs it: a separate process from the runnable jar. A newcomer's insert through a
 * plain MongoDB client shows up on the CDC topic for a stock Kafka consumer; Ctrl-C stops everything, the
 * registry's child JVM included.
 */
class UpCommandIT {

    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);

    @Test
    void shouldPrintEndpointsThenReadyStreamANewcomersInsertAndLeaveNoChildProcessOnInterrupt() throws Exception {
        Path workDir = Files.createTempDirectory("up-it-");
        Path log = workDir.resolve("up.log");
        int routerPort;
        int mongoPort;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0); java.net.ServerSocket mongoProbe = new java.net.ServerSocket(0)) {
            routerPort = probe.getLocalPort();
            mongoPort = mongoProbe.getLocalPort();
        }
        Process up = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx1g", "-jar", System.getProperty("shardline.jar"),
            "up", "--shards", "1", "--topic-prefix", "upit.", "--work-dir", workDir.toString(),
            "--router-port", Integer.toString(routerPort), "--mongo-port", Integer.toString(mongoPort), "--shard-capacity-bytes", "12345678", "--shard-capacity-ops", "321")
            .redirectError(log.toFile())
            .start();
        try {
            Map<String, String> endpoints = readUntilReady(up);

            assertThat(endpoints).containsKeys("KAFKA_BOOTSTRAP", "SCHEMA_REGISTRY_URL", "CONNECT_URL", "SHARD_s1", "ROUTER_URL", "MONGO_ROUTER_URI", "STARTUP_MILLIS");
            assertThat(endpoints.get("ROUTER_URL")).isEqualTo("http://127.0.0.1:" + routerPort);
            assertThat(registeredShard(endpoints)).satisfies(shard -> {
                assertThat(shard.getCapacityBytes()).isEqualTo(12_345_678L);
                assertThat(shard.getCapacityOpsPerSec()).isEqualTo(321L);
            });
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            java.net.http.HttpResponse<String> inserted = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(endpoints.get("ROUTER_URL") + "/v1/auth/users/insert"))
                .header("X-Tenant-Id", "acme")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"documents\": [{\"_id\": \"ada\", \"name\": \"Ada\"}]}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
            java.net.http.HttpResponse<String> found = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(endpoints.get("ROUTER_URL") + "/v1/auth/users/find"))
                .header("X-Tenant-Id", "acme").POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(inserted.statusCode()).as(inserted.body()).isEqualTo(200);
            assertThat(found.body()).contains("\"ada\"", "\"Ada\"", "\"acme\"").doesNotContain("_sk");
            assertThat(endpoints.get("MONGO_ROUTER_URI")).isEqualTo("mongodb://127.0.0.1:" + mongoPort + "/");
            try (MongoClient wire = MongoClients.create(endpoints.get("MONGO_ROUTER_URI"))) {
                assertThat(wire.getDatabase("auth").getCollection("users").find(new Document("_id", "ada")).first())
                    .as("the same document through the wire router").containsEntry("name", "Ada").doesNotContainKey("_sk");
            }
            assertThat(endpoints).doesNotContainKey("SHARD_s2");
            assertThat(workDir.resolve("kafka")).isDirectory();
            assertThat(controlTopics(endpoints.get("KAFKA_BOOTSTRAP"))).contains("upit.shards", "upit.routing");

            try (MongoClient client = MongoClients.create(endpoints.get("SHARD_s1"))) {
                for (String collection : List.of("users", "sessions", "audit_entries")) {
                    assertThat(client.getDatabase("auth").getCollection(collection).listIndexes().map(index -> index.get("key", Document.class))
                        .into(new java.util.ArrayList<>())).as("the shard-key index of auth." + collection).contains(new Document("_sk", 1));
                }
                client.getDatabase("newcomer").getCollection("users")
                    .insertOne(new Document("_id", "hello").append("tenantId", "acme"));
            }
            String value = firstRecord(endpoints.get("KAFKA_BOOTSTRAP"), "cdc.s1.newcomer.users");
            assertThat(value).contains("\"op\":\"c\"").contains("hello").contains("acme");
            // The controller counts both documents of s1 (the router's and the newcomer's) and the router serves its meters.
            String metrics = "";
            long metricsDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!metrics.contains("shard_document_count{shard=\"s1\"} 2.0") && System.nanoTime() < metricsDeadline) {
                metrics = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(endpoints.get("ROUTER_URL") + "/metrics")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                Thread.sleep(200);
            }
            assertThat(metrics).contains("shard_document_count{shard=\"s1\"} 2.0", "shard_data_volume_bytes{shard=\"s1\"}");

            // The worker carries out a command published to the control topic: split the first chunk of auth.users.
            String splitKey = io.shardline.core.key.KeyEncoding.encode("c").toHex();
            publishSplit(endpoints, splitKey);
            assertThat(awaitRoute(endpoints, "auth.users|" + splitKey)).as("chunk created by the worker's split").isTrue();

            List<ProcessHandle> children = up.descendants().toList();
            assertThat(children).isNotEmpty();

            new ProcessBuilder("kill", "-INT", Long.toString(up.pid())).start().waitFor();

            assertThat(up.waitFor(90, TimeUnit.SECONDS)).as("up stops after SIGINT").isTrue();
            assertThat(children).noneMatch(ProcessHandle::isAlive);
        } finally {
            up.descendants().forEach(ProcessHandle::destroyForcibly);
            up.destroyForcibly();
        }
    }

    private static io.shardline.schemas.TopicCatalog catalog(Map<String, String> endpoints) {
        String compatible = endpoints.get("SCHEMA_REGISTRY_URL");
        String base = compatible.substring(0, compatible.indexOf("/apis/"));
        return new io.shardline.schemas.TopicCatalog("upit.", new io.shardline.schemas.RegistrySerdes(base));
    }

    private static void publishSplit(Map<String, String> endpoints, String splitKeyHex) throws Exception {
        io.shardline.schemas.TopicCatalog catalog = catalog(endpoints);
        try (org.apache.kafka.clients.producer.KafkaProducer<String, io.shardline.schemas.avro.ShardCommand> producer =
                 new org.apache.kafka.clients.producer.KafkaProducer<>(Map.of("bootstrap.servers", endpoints.get("KAFKA_BOOTSTRAP")),
                     catalog.commands().keySerde().serializer(), catalog.commands().valueSerde().serializer())) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(catalog.commands().name(), "s1",
                io.shardline.schemas.avro.ShardCommand.newBuilder().setCommandId(UUID.randomUUID().toString()).setIssuer("up-it")
                    .setTimestamp(java.time.Instant.now()).setCommand(io.shardline.schemas.avro.SplitChunk.newBuilder()
                        .setNamespace("auth.users").setChunkMin(java.nio.ByteBuffer.allocate(0))
                        .setSplitKey(java.nio.ByteBuffer.wrap(java.util.HexFormat.of().parseHex(splitKeyHex))).build()).build())).get();
        }
    }

    private static boolean awaitRoute(Map<String, String> endpoints, String routingKey) {
        io.shardline.schemas.TopicCatalog catalog = catalog(endpoints);
        try (KafkaConsumer<String, io.shardline.schemas.avro.ChunkRoute> consumer = new KafkaConsumer<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, endpoints.get("KAFKA_BOOTSTRAP"), ConsumerConfig.GROUP_ID_CONFIG, "routes-" + UUID.randomUUID(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), catalog.routing().valueSerde().deserializer())) {
            consumer.subscribe(List.of(catalog.routing().name()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, io.shardline.schemas.avro.ChunkRoute> record : consumer.poll(Duration.ofMillis(200))) {
                    if (record.key().equals(routingKey)) {
                        return true;
                    }
                }
            }
            return false;
        }
    }

    private static Map<String, String> readUntilReady(Process up) throws Exception {
        Map<String, String> endpoints = new LinkedHashMap<>();
        BufferedReader out = new BufferedReader(new InputStreamReader(up.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        String line;
        while ((line = out.readLine()) != null && System.nanoTime() < deadline) {
            if (line.equals("READY")) {
                return endpoints;
            }
            int eq = line.indexOf('=');
            assertThat(eq).as("every line before READY is KEY=VALUE: %s", line).isPositive();
            endpoints.put(line.substring(0, eq), line.substring(eq + 1));
        }
        throw new AssertionError("up did not print READY; printed " + endpoints);
    }

    private static io.shardline.schemas.avro.ShardDescriptor registeredShard(Map<String, String> endpoints) {
        String registry = endpoints.get("SCHEMA_REGISTRY_URL").replace("/apis/ccompat/v7", "");
        io.shardline.schemas.TopicCatalog catalog = new io.shardline.schemas.TopicCatalog("upit.", new io.shardline.schemas.RegistrySerdes(registry));
        Map<String, Object> config = Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, endpoints.get("KAFKA_BOOTSTRAP"),
            ConsumerConfig.GROUP_ID_CONFIG, "shards-" + UUID.randomUUID(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, io.shardline.schemas.avro.ShardDescriptor> consumer = new KafkaConsumer<>(config,
            catalog.shards().keySerde().deserializer(), catalog.shards().valueSerde().deserializer())) {
            consumer.subscribe(List.of(catalog.shards().name()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, io.shardline.schemas.avro.ShardDescriptor> record : consumer.poll(Duration.ofMillis(250))) {
                    return record.value();
                }
            }
        }
        throw new AssertionError("no shard registered on upit.shards");
    }

    private static java.util.Set<String> controlTopics(String bootstrap) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            return admin.listTopics().names().get();
        }
    }

    private static String firstRecord(String bootstrap, String topic) {
        Map<String, Object> config = Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ConsumerConfig.GROUP_ID_CONFIG, "newcomer-" + UUID.randomUUID(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
            ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(config)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(250))) {
                    return record.value();
                }
            }
        }
        throw new AssertionError("no record on " + topic);
    }
}
