package io.shardline.controlplane.alerts;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.avro.Alert;

/**
 * Delivers alerts to Alertmanager's API v2 ({@code POST <base>/api/v2/alerts}) from a thread of its own, so that the
 * alerter never waits on it: {@link #offer} queues an alert (a full queue drops it, counted and logged); the thread
 * posts what is queued in batches, each retried with a doubling back-off on an answer of 5xx, 408 or 429 or no answer,
 * up to a bounded number of attempts, then dropped (counted and logged; the alert stays on the alerts topic). Every
 * resend interval it posts the alerts still firing again, as Prometheus does, since Alertmanager resolves by itself an
 * alert it has not heard of for its {@code resolve_timeout}.
 */
public final class AlertmanagerWebhook implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(AlertmanagerWebhook.class);
    /** The path Alertmanager's API v2 takes alerts on, under its base URL. */
    public static final String ALERTS_PATH = "/api/v2/alerts";
    private static final int MAX_BATCH = 100;

    /**
     * How alerts are delivered.
     *
     * @param alertsUrl      where alerts are posted: Alertmanager's base URL and {@link #ALERTS_PATH}
     * @param attempts       posts of one batch at most (the first included)
     * @param firstBackoff   the wait after the first failed post, doubled after each
     * @param maxBackoff     the longest wait between two posts of one batch
     * @param requestTimeout how long one post may take
     * @param resendInterval how often the alerts still firing are posted again
     * @param queueCapacity  alerts waiting to be posted at most
     */
    public record Settings(URI alertsUrl, int attempts, Duration firstBackoff, Duration maxBackoff, Duration requestTimeout,
                           Duration resendInterval, int queueCapacity) {
        public Settings {
            Objects.requireNonNull(alertsUrl, "alertsUrl");
            Objects.requireNonNull(firstBackoff, "firstBackoff");
            Objects.requireNonNull(maxBackoff, "maxBackoff");
            Objects.requireNonNull(requestTimeout, "requestTimeout");
            Objects.requireNonNull(resendInterval, "resendInterval");
            if (attempts < 1) {
                throw new IllegalArgumentException("attempts must be at least 1, was " + attempts);
            }
            if (firstBackoff.isNegative() || maxBackoff.compareTo(firstBackoff) < 0) {
                throw new IllegalArgumentException("backoffs must satisfy 0 <= first <= max, were " + firstBackoff + " and " + maxBackoff);
            }
            if (requestTimeout.toMillis() < 1 || resendInterval.toMillis() < 1) {
                throw new IllegalArgumentException("requestTimeout and resendInterval must be at least 1 ms");
            }
            if (queueCapacity < 1) {
                throw new IllegalArgumentException("queueCapacity must be at least 1, was " + queueCapacity);
            }
        }

        /**
         * Delivery to the Alertmanager at {@code baseUrl} (scheme, host, port and any path prefix it is served under):
         * 6 attempts, 500 ms doubling up to 15 s between them, 10 s per post, firing alerts posted again every minute,
         * 10,000 alerts queued at most.
         *
         * @throws IllegalArgumentException when the URL is not an http(s) URL, has a query or a fragment, or already ends
         *                                  with {@link #ALERTS_PATH}
         */
        public static Settings forAlertmanager(String baseUrl) {
            return new Settings(AlertmanagerWebhook.alertsUrl(baseUrl), 6, Duration.ofMillis(500), Duration.ofSeconds(15), Duration.ofSeconds(10),
                Duration.ofMinutes(1), 10_000);
        }

        public Settings withRetries(int attempts, Duration firstBackoff, Duration maxBackoff) {
            return new Settings(alertsUrl, attempts, firstBackoff, maxBackoff, requestTimeout, resendInterval, queueCapacity);
        }

        public Settings withResendInterval(Duration interval) {
            return new Settings(alertsUrl, attempts, firstBackoff, maxBackoff, requestTimeout, interval, queueCapacity);
        }

        public Settings withQueueCapacity(int capacity) {
            return new Settings(alertsUrl, attempts, firstBackoff, maxBackoff, requestTimeout, resendInterval, capacity);
        }
    }

    private final Settings settings;
    private final AlerterMeters meters;
    private final Supplier<Collection<Alert>> firing;
    private final HttpClient http;
    private final BlockingQueue<Alert> queue;
    private final Thread thread;
    private volatile boolean running = true;

    /** @param firing the alerts firing now, posted again every resend interval */
    public AlertmanagerWebhook(Settings settings, AlerterMeters meters, Supplier<Collection<Alert>> firing) {
        this.settings = settings;
        this.meters = meters;
        this.firing = firing;
        this.http = HttpClient.newBuilder().connectTimeout(settings.requestTimeout()).build();
        this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
        this.thread = new Thread(this::run, "alert-webhook");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** {@code <baseUrl>/api/v2/alerts}, the base URL checked. */
    public static URI alertsUrl(String baseUrl) {
        if (baseUrl == null || baseUrl.isBlank()) {
            throw new IllegalArgumentException("Alertmanager's base URL is empty");
        }
        URI base;
        try {
            base = new URI(baseUrl);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL: " + baseUrl + " (" + e.getReason() + ")");
        }
        if (base.getScheme() == null || !List.of("http", "https").contains(base.getScheme()) || base.getHost() == null) {
            throw new IllegalArgumentException("Alertmanager's base URL must be an http or https URL with a host, was " + baseUrl);
        }
        if (base.getRawQuery() != null || base.getRawFragment() != null) {
            throw new IllegalArgumentException("Alertmanager's base URL takes no query or fragment, was " + baseUrl);
        }
        String path = base.getRawPath() == null ? "" : base.getRawPath().replaceAll("/+$", "");
        if (path.endsWith(ALERTS_PATH)) {
            throw new IllegalArgumentException("give Alertmanager's base URL, without " + ALERTS_PATH + " (it is added), was " + baseUrl);
        }
        return URI.create(base.getScheme() + "://" + base.getRawAuthority() + path + ALERTS_PATH);
    }

    /** Queues an alert for delivery; never waits. */
    public void offer(Alert alert) {
        if (!queue.offer(alert)) {
            meters.dropped(1);
            LOG.error("alert {} {} ({}) not delivered to {}: {} alerts wait already", alert.getAlertname(), alert.getStatus(),
                alert.getLabels(), settings.alertsUrl(), settings.queueCapacity());
        }
    }

    private void run() {
        long nextResend = System.nanoTime() + settings.resendInterval().toNanos();
        try {
            while (running) {
                Alert first = queue.poll(Math.max(0, nextResend - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (first != null) {
                    List<Alert> batch = new ArrayList<>();
                    batch.add(first);
                    queue.drainTo(batch, MAX_BATCH - 1);
                    deliver(batch);
                }
                if (System.nanoTime() >= nextResend) {
                    List<Alert> still = List.copyOf(firing.get());
                    for (int from = 0; from < still.size(); from += MAX_BATCH) {
                        deliver(still.subList(from, Math.min(still.size(), from + MAX_BATCH)));
                    }
                    nextResend = System.nanoTime() + settings.resendInterval().toNanos();
                }
            }
        } catch (InterruptedException stopping) {
            Thread.currentThread().interrupt();
        }
        if (!queue.isEmpty()) {
            meters.dropped(queue.size());
            LOG.warn("{} alerts were not delivered to {} before the alerter stopped (they are on the alerts topic)", queue.size(),
                settings.alertsUrl());
        }
    }

    /** Posts one batch, retried as the settings say; a batch given up is counted as dropped and logged. */
    private void deliver(List<Alert> batch) throws InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(settings.alertsUrl()).timeout(settings.requestTimeout())
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(AlertmanagerPayload.of(batch))).build();
        Duration backoff = settings.firstBackoff();
        for (int attempt = 1; ; attempt++) {
            String cause;
            String failure;
            boolean retryable;
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                int status = response.statusCode();
                if (status / 100 == 2) {
                    meters.delivered(batch.size());
                    return;
                }
                cause = "http_" + status;
                failure = "HTTP " + status + " " + abbreviated(response.body());
                retryable = status / 100 == 5 || status == 408 || status == 429;
            } catch (HttpTimeoutException e) {
                cause = "timeout";
                failure = "no answer within " + settings.requestTimeout().toMillis() + " ms";
                retryable = true;
            } catch (IOException e) {
                cause = "io";
                failure = e.toString();
                retryable = true;
            } catch (InterruptedException e) {
                meters.dropped(batch.size());
                throw e;
            }
            meters.failed(cause);
            if (!retryable || attempt >= settings.attempts()) {
                meters.dropped(batch.size());
                LOG.error("{} alerts not delivered to {} after {} attempts ({}): {}; last failure: {}", batch.size(), settings.alertsUrl(),
                    attempt, retryable ? "every attempt failed" : "not retried", names(batch), failure);
                return;
            }
            LOG.warn("posting {} alerts to {} failed (attempt {} of {}): {}; trying again in {} ms", batch.size(), settings.alertsUrl(),
                attempt, settings.attempts(), failure, backoff.toMillis());
            Thread.sleep(backoff.toMillis());
            backoff = backoff.multipliedBy(2).compareTo(settings.maxBackoff()) > 0 ? settings.maxBackoff() : backoff.multipliedBy(2);
        }
    }

    private static String names(List<Alert> batch) {
        return batch.stream().map(alert -> alert.getAlertname() + " " + alert.getStatus() + " " + alert.getLabels()).toList().toString();
    }

    private static String abbreviated(String body) {
        String flat = body == null ? "" : body.replaceAll("\\s+", " ").strip();
        return flat.length() > 200 ? flat.substring(0, 200) + "…" : flat;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
