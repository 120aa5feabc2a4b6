package io.shardline.worker.data;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import org.bson.BsonString;
import org.bson.RawBsonDocument;

import com.mongodb.client.MongoCursor;

/**
 * The copy step of a migration: one scan of the range in key order feeds batches to parallel writers on the target.
 * The shard sorts the range once for the one scan (a shard without an index on the key sorts the whole range for
 * every range query, so parts cut by key would each pay for it), and reading the next batch overlaps writing the last.
 *
 * <p>The resume point is the last key of the last batch written with every batch before it written too: a copy
 * resumed from there repeats at most the batches that were in flight (writes are idempotent).
 */
public final class RangeCopy {

    /** Where a copy stands: documents and bytes written so far, the key to resume from, and whether it was stopped. */
    public record Progress(long documents, long bytes, String resumeKey, boolean finished) {
    }

    /** What a copy reports as it goes. */
    public interface Listener {
        void copied(long documents, long bytes);

        /** A writer paused because the target has been answering batches slower than the latency target. */
        void throttled(Duration paused);
    }

    private final RangeOps range;
    private final String fromHex;
    private final int batchSize;
    private final int writers;
    private final Throttle throttle;
    private final Listener listener;

    private final AtomicLong documents;
    private final AtomicLong bytes;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** Batches written out of order, by sequence number, with their last key. */
    private final TreeMap<Long, String> writtenAhead = new TreeMap<>();
    private long nextInOrder;
    private String resumeKey;
    /** Every document of the range was read and written, without a stop. */
    private boolean finished;


    /**
     * @param range         the range on both sides (read from its authoritative side, written to the other)
     * @param fromHex       the key the scan starts at (the range's lower bound, or the resume point)
     * @param writers       batches written to the target at once
     * @param latencyTarget when the target's batch latency (a moving average, so that one slow batch, a collector's
     *                      pause, does not count) is above this, each writer pauses for the excess (at most 1 s)
     * @param documents     documents already copied (a resumed copy)
     * @param bytes         bytes already copied
     */
    public RangeCopy(RangeOps range, String fromHex, int batchSize, int writers, Duration latencyTarget, Listener listener, long documents,
              long bytes) {
        if (batchSize < 1 || writers < 1) {
            throw new IllegalArgumentException("batchSize and writers must be positive, were " + batchSize + " and " + writers);
        }
        this.range = range;
        this.fromHex = fromHex;
        this.batchSize = batchSize;
        this.writers = writers;
        this.throttle = new Throttle(latencyTarget);
        this.listener = listener;
        this.documents = new AtomicLong(documents);
        this.bytes = new AtomicLong(bytes);
        this.resumeKey = fromHex;
    }

    /**
     * Copies the range, asking {@code keepGoing} every {@code tick} whether to go on (it may publish the progress it is
     * given); returns where the copy ended, finished or stopped. A failed read or write is thrown once the batches in
     * flight are done.
     */
    public Progress run(String threadName, Duration tick, Predicate<Progress> keepGoing) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(writers + 1, task -> {
            Thread thread = new Thread(task, threadName);
            thread.setDaemon(true);
            return thread;
        });
        try {
            Future<?> reader = pool.submit(() -> {
                read(pool);
                return null;
            });
            while (!reader.isDone()) {
                try {
                    reader.get(tick.toMillis(), TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.TimeoutException stillCopying) {
                    if (!keepGoing.test(progress(false))) {
                        stop.set(true);
                    }
                } catch (java.util.concurrent.ExecutionException failed) {
                    failure.compareAndSet(null, failed.getCause());
                }
            }
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
        Throwable failed = failure.get();
        if (failed != null) {
            throw failed instanceof RuntimeException runtime ? runtime : new IllegalStateException("the copy failed: " + failed.getMessage(), failed);
        }
        synchronized (this) {
            return progress(finished);
        }
    }

    /** Reads the range in batches and hands them to writers, at most two per writer in flight; returns when all are written. */
    private void read(ExecutorService pool) throws InterruptedException {
        int inFlight = 2 * writers;
        Semaphore slots = new Semaphore(inFlight);
        long sequence = 0;
        try (MongoCursor<RawBsonDocument> cursor = range.scan(fromHex, batchSize)) {
            boolean more = true;
            while (more && !stop.get() && failure.get() == null) {
                List<RawBsonDocument> batch = new ArrayList<>(batchSize);
                while (batch.size() < batchSize && cursor.hasNext()) {
                    batch.add(cursor.next());
                }
                more = batch.size() == batchSize;
                if (batch.isEmpty()) {
                    break;
                }
                slots.acquire();
                long number = sequence++;
                pool.execute(() -> {
                    try {
                        write(number, batch);
                    } catch (RuntimeException | InterruptedException e) {
                        failure.compareAndSet(null, e);
                    } finally {
                        slots.release();
                    }
                });
            }
            slots.acquire(inFlight); // every batch handed out is written (or failed)
            synchronized (this) {
                finished = !stop.get() && failure.get() == null && !more;
            }
        }
    }

    private void write(long number, List<RawBsonDocument> batch) throws InterruptedException {
        long started = System.nanoTime();
        range.write(batch);
        long millis = (System.nanoTime() - started) / 1_000_000;
        long size = batch.stream().mapToLong(d -> d.getByteBuffer().remaining()).sum();
        documents.addAndGet(batch.size());
        bytes.addAndGet(size);
        listener.copied(batch.size(), size);
        written(number, ((BsonString) batch.get(batch.size() - 1).get(RangeOps.KEY_FIELD)).getValue());
        long pause = throttle.pauseAfter(millis);
        if (pause > 0) {
            listener.throttled(Duration.ofMillis(pause));
            Thread.sleep(pause);
        }
    }

    private synchronized void written(long number, String lastKey) {
        writtenAhead.put(number, lastKey);
        while (writtenAhead.containsKey(nextInOrder)) {
            resumeKey = writtenAhead.remove(nextInOrder++);
        }
    }

    private synchronized Progress progress(boolean done) {
        return new Progress(documents.get(), bytes.get(), resumeKey, done);
    }

    /**
     * The copy's brake: a moving average of the target's batch latencies (about the last five batches of all writers
     * count) against the latency target, so that one slow batch, a collector's pause, does not stop the copy.
     */
    static final class Throttle {

        private static final double NEWEST_WEIGHT = 0.2;
        private static final long MAX_PAUSE_MILLIS = 1_000;
        private final long targetMillis;
        private double averageMillis = -1;

        Throttle(Duration target) {
            this.targetMillis = target.toMillis();
        }

        /** Adds a batch's latency; returns how long its writer pauses: the average's excess over the target, at most 1 s. */
        synchronized long pauseAfter(long batchMillis) {
            averageMillis = averageMillis < 0 ? batchMillis : averageMillis + NEWEST_WEIGHT * (batchMillis - averageMillis);
            long over = Math.round(averageMillis) - targetMillis;
            return over > 0 ? Math.min(over, MAX_PAUSE_MILLIS) : 0;
        }
    }
}
