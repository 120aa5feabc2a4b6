package io.shardline.worker.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.bson.BsonDocument;
import org.bson.BsonInt32;
import org.bson.BsonString;
import org.bson.RawBsonDocument;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;

/** The copy step on two real embedded shards: parallel writers, a stop and a resume from the published point. */
class RangeCopyIT {

    private static TwoShards shards;

    @BeforeAll
    static void start() {
        shards = new TwoShards("range-copy");
    }

    @AfterAll
    static void stop() {
        shards.close();
    }

    /** 3,000 documents on the source, keys 0000..2999 (two documents under each key), copied range [0100, 2900). */
    private static RangeOps range(String name) {
        MongoCollection<RawBsonDocument> from = shards.source.getDatabase("rangecopy").getCollection(name, RawBsonDocument.class);
        List<RawBsonDocument> documents = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            BsonDocument document = new BsonDocument("_id", new BsonString(name + "-" + i))
                .append(RangeOps.KEY_FIELD, new BsonString(String.format("%04d", i / 2 * 2))).append("v", new BsonInt32(i));
            documents.add(RawBsonDocument.parse(document.toJson()));
        }
        from.insertMany(documents);
        return new RangeOps(from, shards.target.getDatabase("rangecopy").getCollection(name, RawBsonDocument.class), "0100", "2900");
    }

    /** Counts the batches written and the threads that wrote them; each batch takes at least {@code slowness}. */
    private static final class Recorder implements RangeCopy.Listener {
        final Set<Long> threads = ConcurrentHashMap.newKeySet();
        final java.util.concurrent.atomic.AtomicLong documents = new java.util.concurrent.atomic.AtomicLong();
        final java.util.concurrent.atomic.AtomicInteger pauses = new java.util.concurrent.atomic.AtomicInteger();
        private final long slowness;

        Recorder(Duration slowness) {
            this.slowness = slowness.toMillis();
        }

        @Override
        public void copied(long count, long bytes) {
            threads.add(Thread.currentThread().getId());
            documents.addAndGet(count);
            if (slowness > 0) {
                try {
                    Thread.sleep(slowness);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void throttled(Duration paused) {
            pauses.incrementAndGet();
        }
    }

    @Test
    void shouldCopyTheWholeRangeWithAsManyWritersAsConfigured() throws InterruptedException {
        for (int writers : new int[] {1, 3}) {
            RangeOps range = range("whole" + writers);
            Recorder recorder = new Recorder(Duration.ZERO);
            RangeCopy.Progress done = new RangeCopy(range, "0100", 100, writers, Duration.ofSeconds(10), recorder, 0, 0)
                .run("copy-test", Duration.ofMillis(50), progress -> true);

            assertThat(done.finished()).isTrue();
            assertThat(done.documents()).isEqualTo(2_800).isEqualTo(recorder.documents.get());
            assertThat(range.digestTo()).isEqualTo(range.digestFrom());
            assertThat(range.digestTo().count()).isEqualTo(2_800);
            assertThat(done.resumeKey()).isEqualTo("2898");
            assertThat(recorder.threads).as("threads that wrote batches with %d writers", writers).hasSize(writers);
            assertThat(recorder.pauses).as("no batch is slower than 10 s").hasValue(0);
        }
    }

    @Test
    void shouldPauseAWriterWhoseBatchIsSlowerThanTheLatencyTarget() throws InterruptedException {
        RangeOps range = range("throttled");
        Recorder recorder = new Recorder(Duration.ZERO);
        RangeCopy.Progress done = new RangeCopy(range, "0100", 500, 1, Duration.ZERO, recorder, 0, 0)
            .run("copy-test", Duration.ofMillis(50), progress -> true);

        assertThat(done.finished()).isTrue();
        assertThat(recorder.pauses.get()).as("a target of zero: every batch of 500 takes longer").isPositive();
    }

    @Test
    void shouldStopWhenToldAndResumeFromAPointBelowWhichEverythingIsCopied() throws InterruptedException {
        RangeOps range = range("resumed");
        Recorder slow = new Recorder(Duration.ofMillis(50));
        List<RangeCopy.Progress> seen = new ArrayList<>();
        RangeCopy.Progress stopped = new RangeCopy(range, "0100", 50, 3, Duration.ofSeconds(10), slow, 7, 70)
            .run("copy-test", Duration.ofMillis(100), progress -> {
                seen.add(progress);
                return seen.size() < 2;
            });

        assertThat(stopped.finished()).isFalse();
        assertThat(seen).as("asked again while the batches in flight finish").hasSizeGreaterThanOrEqualTo(2);
        assertThat(stopped.documents()).as("what it was given plus what it wrote").isEqualTo(7 + slow.documents.get()).isLessThan(7 + 2_800);
        String resume = stopped.resumeKey();
        assertThat(resume).isBetween("0100", "2898");
        MongoCollection<RawBsonDocument> from = shards.source.getDatabase("rangecopy").getCollection("resumed", RawBsonDocument.class);
        MongoCollection<RawBsonDocument> to = shards.target.getDatabase("rangecopy").getCollection("resumed", RawBsonDocument.class);
        long below = from.countDocuments(Filters.and(Filters.gte(RangeOps.KEY_FIELD, "0100"), Filters.lt(RangeOps.KEY_FIELD, resume)));
        assertThat(to.countDocuments(Filters.lt(RangeOps.KEY_FIELD, resume))).as("every document below the resume point is on the target")
            .isEqualTo(below);

        RangeCopy.Progress resumed = new RangeCopy(range, resume, 50, 3, Duration.ofSeconds(10), new Recorder(Duration.ZERO), 0, 0)
            .run("copy-test", Duration.ofMillis(50), progress -> true);
        assertThat(resumed.finished()).isTrue();
        assertThat(range.digestTo()).isEqualTo(range.digestFrom());
    }
}
