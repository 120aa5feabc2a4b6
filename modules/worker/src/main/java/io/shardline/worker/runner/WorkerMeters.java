package io.shardline.worker.runner;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.worker.migration.MigrationListener;

/** A worker's migration meters, fed by its migrations, and the observer told of every state a migration enters. */
public final class WorkerMeters implements MigrationListener {

    private final MeterRegistry registry;
    private final String workerId;
    private final Consumer<MigrationState> observer;
    private final Counter copiedDocs;
    private final Counter copiedBytes;
    private final Timer fenceHeld;
    private final Map<String, AtomicLong> replayLag = new ConcurrentHashMap<>();

    public WorkerMeters(MeterRegistry registry, String workerId, Consumer<MigrationState> observer) {
        this.registry = registry;
        this.workerId = workerId;
        this.observer = observer;
        this.copiedDocs = Counter.builder("shard.migration.copied.documents").description("Documents copied by migrations")
            .tag("worker", workerId).register(registry);
        this.copiedBytes = Counter.builder("shard.migration.copied").baseUnit("bytes").description("BSON bytes copied by migrations")
            .tag("worker", workerId).register(registry);
        this.fenceHeld = Timer.builder("shard.migration.fence.duration").description("How long migrations held writes to their range")
            .tag("worker", workerId).register(registry);
    }

    @Override
    public void step(MigrationState state) {
        Counter.builder("shard.migration.steps").description("Migration states entered or resumed from")
            .tag("worker", workerId).tag("phase", state.getPhase().name().toLowerCase(Locale.ROOT))
            .register(registry).increment();
        observer.accept(state);
    }

    @Override
    public void copied(long documents, long bytes) {
        copiedDocs.increment(documents);
        copiedBytes.increment(bytes);
    }

    @Override
    public void replayLag(String migrationId, long events, long millis) {
        replayLag.computeIfAbsent(migrationId, id -> {
            AtomicLong lag = new AtomicLong();
            Gauge.builder("shard.migration.replay.lag", lag, AtomicLong::get).description("CDC events not yet replayed")
                .tag("migration", id).register(registry);
            return lag;
        }).set(events);
    }

    @Override
    public void fenceHeld(Duration held) {
        fenceHeld.record(held);
    }

    @Override
    public void throttled(Duration paused) {
        Timer.builder("shard.migration.copy.throttled").description("Pauses of the copy for a slow target")
            .tag("worker", workerId).register(registry).record(paused);
    }
}
