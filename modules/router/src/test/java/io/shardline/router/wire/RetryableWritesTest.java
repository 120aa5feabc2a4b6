package io.shardline.router.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.bson.Document;
import org.junit.jupiter.api.Test;

class RetryableWritesTest {

    private static final Document SESSION = new Document("id", "session-1");
    private final RetryableWrites writes = new RetryableWrites(Duration.ofMinutes(30));
    private final AtomicInteger runs = new AtomicInteger();

    private Document write() {
        return new Document("n", runs.incrementAndGet());
    }

    @Test
    void shouldAnswerARetryWithTheFirstRunsReplyWithoutRunningItAgain() {
        Document first = writes.run(SESSION, 1, this::write);
        Document retried = writes.run(SESSION, 1, this::write);

        assertThat(retried).isEqualTo(first);
        assertThat(runs).hasValue(1);
    }

    @Test
    void shouldRunTheNextTransactionNumberAndRefuseAnOlderOne() {
        writes.run(SESSION, 1, this::write);
        writes.run(SESSION, 2, this::write);

        assertThat(runs).hasValue(2);
        assertThatThrownBy(() -> writes.run(SESSION, 1, this::write))
            .isInstanceOfSatisfying(WireCommandException.class, e -> assertThat(e.error().code()).isEqualTo(225))
            .hasMessageContaining("txnNumber 1");
    }

    @Test
    void shouldKeepSessionsApart() {
        writes.run(SESSION, 1, this::write);
        writes.run(new Document("id", "session-2"), 1, this::write);

        assertThat(runs).hasValue(2);
    }

    @Test
    void shouldRunAgainAWriteThatFailedAsAWhole() {
        assertThatThrownBy(() -> writes.run(SESSION, 1, () -> {
            throw new IllegalStateException("lease lapsed");
        })).hasMessage("lease lapsed");

        assertThat(writes.run(SESSION, 1, this::write)).isEqualTo(new Document("n", 1));
    }

    @Test
    void shouldHoldARetryUntilTheFirstRunEndsAndAnswerWithItsReply() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Document> first = CompletableFuture.supplyAsync(() -> writes.run(SESSION, 7, () -> {
            started.countDown();
            await(release);
            return write();
        }));
        started.await(10, TimeUnit.SECONDS);
        CompletableFuture<Document> retry = CompletableFuture.supplyAsync(() -> writes.run(SESSION, 7, this::write));
        assertThat(retry).isNotDone();

        release.countDown();

        assertThat(retry.get(10, TimeUnit.SECONDS)).isEqualTo(first.get(10, TimeUnit.SECONDS));
        assertThat(runs).hasValue(1);
    }

    @Test
    void shouldForgetEndedAndIdleSessions() throws Exception {
        writes.run(SESSION, 1, this::write);
        writes.end(List.of(SESSION));
        writes.run(SESSION, 1, this::write);
        assertThat(runs).as("an ended session's write runs again").hasValue(2);

        RetryableWrites shortLived = new RetryableWrites(Duration.of(1, ChronoUnit.NANOS));
        shortLived.run(SESSION, 1, this::write);
        Thread.sleep(2);
        assertThat(shortLived.expire()).isEqualTo(1);
        assertThat(shortLived.size()).isZero();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
