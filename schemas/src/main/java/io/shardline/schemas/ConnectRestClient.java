package io.shardline.schemas;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The few calls of Kafka Connect's REST API that deploying and watching connectors needs. */
public final class ConnectRestClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String baseUrl;

    public ConnectRestClient(String baseUrl) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    }

    /** Creates or updates a connector from its {@code {name, config}} JSON; returns the connector's name. */
    public String deploy(String connectorJson) throws IOException, InterruptedException {
        JsonNode definition = JSON.readTree(connectorJson);
        String name = definition.path("name").asText(null);
        if (name == null || !definition.has("config")) {
            throw new IllegalArgumentException("a connector definition needs 'name' and 'config'");
        }
        HttpRequest put = HttpRequest.newBuilder(URI.create(baseUrl + "/connectors/" + name + "/config"))
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(definition.get("config"))))
            .build();
        HttpResponse<String> response = http.send(put, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IOException("Connect refused connector " + name + ": HTTP " + response.statusCode() + " " + response.body());
        }
        return name;
    }

    /** The connector's state and its tasks' states, e.g. {@code RUNNING}; {@code null} when it is unknown. */
    public JsonNode status(String name) throws IOException, InterruptedException {
        HttpRequest get = HttpRequest.newBuilder(URI.create(baseUrl + "/connectors/" + name + "/status"))
            .timeout(Duration.ofSeconds(10)).GET().build();
        HttpResponse<String> response = http.send(get, HttpResponse.BodyHandlers.ofString());
        return response.statusCode() == 200 ? JSON.readTree(response.body()) : null;
    }

    /** Waits until the connector and all of its tasks run; fails with the task trace when one failed. */
    public void awaitRunning(String name, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode status = null;
        while (System.nanoTime() < deadline) {
            status = status(name);
            if (status != null) {
                JsonNode tasks = status.path("tasks");
                for (JsonNode task : tasks) {
                    if ("FAILED".equals(task.path("state").asText())) {
                        throw new IllegalStateException("connector " + name + " task failed: " + task.path("trace").asText());
                    }
                }
                boolean running = "RUNNING".equals(status.path("connector").path("state").asText())
                    && tasks.size() > 0;
                for (JsonNode task : tasks) {
                    running &= "RUNNING".equals(task.path("state").asText());
                }
                if (running) {
                    return;
                }
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("connector " + name + " not running after " + timeout + "; last status " + status);
    }

    /** Restarts the connector and its tasks. */
    public void restart(String name) throws IOException, InterruptedException {
        HttpRequest post = HttpRequest.newBuilder(URI.create(baseUrl + "/connectors/" + name + "/restart?includeTasks=true"))
            .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> response = http.send(post, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IOException("restart of " + name + " failed: HTTP " + response.statusCode() + " " + response.body());
        }
    }

    /** The connector's configuration; {@code null} when there is no such connector. */
    public Map<String, String> config(String name) throws IOException, InterruptedException {
        HttpRequest get = HttpRequest.newBuilder(URI.create(baseUrl + "/connectors/" + name + "/config")).timeout(Duration.ofSeconds(10)).GET().build();
        HttpResponse<String> response = http.send(get, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 404) {
            return null;
        }
        if (response.statusCode() != 200) {
            throw new IOException("reading the config of " + name + " failed: HTTP " + response.statusCode() + " " + response.body());
        }
        return JSON.readValue(response.body(), new TypeReference<Map<String, String>>() { });
    }

    /**
     * Every connector with its configuration and state: {@code name -> {"config": {...}, "state": "RUNNING"}} (the state
     * {@code null} when Connect has none for it yet).
     */
    public Map<String, JsonNode> connectors() throws IOException, InterruptedException {
        HttpRequest get = HttpRequest.newBuilder(URI.create(baseUrl + "/connectors?expand=info&expand=status")).timeout(Duration.ofSeconds(10)).GET().build();
        HttpResponse<String> response = http.send(get, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("listing the connectors failed: HTTP " + response.statusCode() + " " + response.body());
        }
        Map<String, JsonNode> connectors = new java.util.TreeMap<>();
        JSON.readTree(response.body()).fields().forEachRemaining(entry -> {
            com.fasterxml.jackson.databind.node.ObjectNode summary = JSON.createObjectNode();
            summary.set("config", entry.getValue().path("info").path("config"));
            JsonNode state = entry.getValue().path("status").path("connector").path("state");
            summary.set("state", state.isMissingNode() ? null : state);
            connectors.put(entry.getKey(), summary);
        });
        return connectors;
    }

    /** Replaces the connector's configuration; its tasks restart with it. */
    public void configure(String name, Map<String, String> config) throws IOException, InterruptedException {
        deploy(JSON.writeValueAsString(java.util.Map.of("name", name, "config", config)));
    }

    /** Stops the connector: its tasks end and it keeps its configuration; its offsets may then be reset. */
    public void stop(String name) throws IOException, InterruptedException {
        send("PUT", "/connectors/" + name + "/stop", "stopping " + name);
    }

    /** Starts a stopped (or paused) connector again. */
    public void resume(String name) throws IOException, InterruptedException {
        send("PUT", "/connectors/" + name + "/resume", "resuming " + name);
    }

    /** The connector's state ({@code RUNNING}, {@code STOPPED}, ...), or {@code null} when it is not there. */
    public String state(String name) throws IOException, InterruptedException {
        JsonNode status = status(name);
        return status == null ? null : status.path("connector").path("state").asText(null);
    }

    private void send(String method, String path, String what) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(30))
            .method(method, HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IOException(what + " failed: HTTP " + response.statusCode() + " " + response.body());
        }
    }

    /** Deletes the connector (its tasks stop); a connector that is not there is no error. */
    public void delete(String name) throws IOException, InterruptedException {
        HttpRequest delete = HttpRequest.newBuilder(URI.create(baseUrl + "/connectors/" + name)).timeout(Duration.ofSeconds(30)).DELETE().build();
        HttpResponse<String> response = http.send(delete, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2 && response.statusCode() != 404) {
            throw new IOException("deleting " + name + " failed: HTTP " + response.statusCode() + " " + response.body());
        }
    }
}
