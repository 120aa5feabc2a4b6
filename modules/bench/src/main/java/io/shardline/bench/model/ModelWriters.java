package io.shardline.bench.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.bson.Document;

import io.shardline.router.ShardRouter;
import io.shardline.worker.check.WriteLedger;

/**
 * A run's writers: two threads inserting, updating and deleting through a router over a small key space each, every
 * write recorded in the {@link WriteLedger} before it is sent and acknowledged once the router returns. A write that
 * fails leaves its outcome unknown.
 */
final class ModelWriters {

    private static final String TENANT = "acme";
    private static final int WRITERS = 2;
    private static final int KEYS_PER_WRITER = 60;

    private final ShardRouter router;
    private final String namespace;
    private final WriteLedger ledger;
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong acknowledged = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();

    ModelWriters(ShardRouter router, String namespace, WriteLedger ledger) {
        this.router = router;
        this.namespace = namespace;
        this.ledger = ledger;
    }

    /** Starts the writers, each with its own random sequence drawn from the seed. */
    void start(long seed) {
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            Random random = new Random(seed * 31 + w);
            Thread thread = new Thread(() -> write(writer, random), "model-writer-" + w);
            threads.add(thread);
            thread.start();
        }
    }

    /** Tells the writers to stop after their current write. */
    void stop() {
        writing.set(false);
    }

    /** Stops the writers and waits for each (at most 30 s). */
    void stopAndJoin() throws InterruptedException {
        stop();
        for (Thread thread : threads) {
            thread.join(30_000);
        }
    }

    long acknowledged() {
        return acknowledged.get();
    }

    /** The writes that failed, their outcome unknown. */
    long failed() {
        return failed.get();
    }

    private void write(int writer, Random random) {
        List<String> live = new ArrayList<>();
        while (writing.get()) {
            String id = "w" + writer + "-" + random.nextInt(KEYS_PER_WRITER);
            WriteLedger.Key key = new WriteLedger.Key(namespace, id);
            int value = random.nextInt(1_000_000);
            boolean exists = live.contains(id);
            int choice = random.nextInt(10);
            try {
                if (!exists) {
                    ledger.attempt(key, value);
                    router.insert(TENANT, namespace, List.of(new Document("_id", id).append("userId", id).append("v", value)));
                    live.add(id);
                } else if (choice < 7) {
                    ledger.attempt(key, value);
                    router.update(TENANT, namespace, new Document("_id", id).append("userId", id), new Document("$set", new Document("v", value)), false, false);
                } else {
                    value = WriteLedger.DELETED;
                    ledger.attempt(key, value);
                    router.delete(TENANT, namespace, new Document("_id", id).append("userId", id), false);
                    live.remove(id);
                }
                ledger.acknowledge(key, value);
                acknowledged.incrementAndGet();
            } catch (RuntimeException e) {
                // The outcome is unknown: the ledger allows both values until a later write of this id is acknowledged.
                failed.incrementAndGet();
                if (!exists) {
                    live.add(id);
                }
            }
            try {
                Thread.sleep(3);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
