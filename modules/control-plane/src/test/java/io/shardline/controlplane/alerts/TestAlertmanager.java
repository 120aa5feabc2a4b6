package io.shardline.controlplane.alerts;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A stand-in for Alertmanager's {@code POST /api/v2/alerts}: it keeps every request it gets (path and body) and answers
 * with the statuses it is told to, in order, then 200.
 */
final class TestAlertmanager implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request: the path it was posted to and each alert of its body. */
    record Post(String method, String path, String contentType, List<JsonNode> alerts, int answered) {
    }

    private final HttpServer server;
    private final Queue<Integer> answers = new ConcurrentLinkedQueue<>();
    private final List<Post> posts = new CopyOnWriteArrayList<>();

    TestAlertmanager() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::answer);
        server.start();
    }

    /** The base URL, as {@code --alert-webhook} takes it. */
    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The next requests get these statuses, in order. */
    TestAlertmanager failingWith(Integer... statuses) {
        answers.addAll(List.of(statuses));
        return this;
    }

    List<Post> posts() {
        return List.copyOf(posts);
    }

    /** Every alert accepted (answered 2xx), in the order received. */
    List<JsonNode> accepted() {
        List<JsonNode> alerts = new ArrayList<>();
        posts.stream().filter(post -> post.answered() / 100 == 2).forEach(post -> alerts.addAll(post.alerts()));
        return alerts;
    }

    /** Waits until an accepted alert matches. */
    JsonNode await(Predicate<JsonNode> matching, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode alert : accepted()) {
                if (matching.test(alert)) {
                    return alert;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no accepted alert matched within " + within + "; posts: " + posts);
    }

    static Predicate<JsonNode> alert(String alertname, String label, String value, boolean resolved) {
        return alert -> alert.path("labels").path("alertname").asText().equals(alertname) && alert.path("labels").path(label).asText().equals(value)
            && alert.has("endsAt") == resolved;
    }

    private void answer(HttpExchange exchange) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        Integer status = answers.poll();
        int answered = status == null ? 200 : status;
        List<JsonNode> alerts = new ArrayList<>();
        JSON.readTree(new String(body, StandardCharsets.UTF_8)).forEach(alerts::add);
        posts.add(new Post(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), exchange.getRequestHeaders().getFirst("Content-Type"),
            alerts, answered));
        byte[] reply = (answered == 200 ? "" : "{\"code\": " + answered + ", \"message\": \"not now\"}").getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(answered, reply.length == 0 ? -1 : reply.length);
        if (reply.length > 0) {
            exchange.getResponseBody().write(reply);
        }
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
