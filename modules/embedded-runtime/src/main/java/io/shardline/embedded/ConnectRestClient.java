package io.shardline.embedded;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

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

    /** Deletes the connector (its tasks stop); a connector that is not there is no error. */
    public void delete(String name) throws IOException, InterruptedException {
        HttpRequest delete = HttpRequest.newBuilder(URI.create(baseUrl + "/connectors/" + name)).timeout(Duration.ofSeconds(30)).DELETE().build();
        HttpResponse<String> response = http.send(delete, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2 && response.statusCode() != 404) {
            throw new IOException("deleting " + name + " failed: HTTP " + response.statusCode() + " " + response.body());
        }
    }
}
