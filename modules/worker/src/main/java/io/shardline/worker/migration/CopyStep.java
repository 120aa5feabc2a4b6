package io.shardline.worker.migration;

import java.time.Duration;

import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.worker.data.RangeCopy;
import io.shardline.core.key.KeyHex;

/**
 * COPYING: copies the range in key order ({@link RangeCopy}), publishing its progress and resume point as it goes,
 * and stops early for an abort or rollback -> CATCHING_UP.
 */
final class CopyStep {

    private final MigrationContext migration;

    CopyStep(MigrationContext migration) {
        this.migration = migration;
    }

    void run() throws InterruptedException {
        MigrationState state = migration.state;
        String from = state.getLastCopiedKey() == null ? KeyHex.of(state.getChunkMin()) : KeyHex.of(state.getLastCopiedKey());
        RangeCopy copy = new RangeCopy(migration.ops(), from, migration.config.copyBatchSize(), migration.config.copyStreams(),
            migration.config.copyLatencyTarget(), migration.listener, state.getCopiedDocs(), state.getCopiedBytes());
        Duration tick = Duration.ofMillis(Math.max(10, Math.min(200, migration.config.progressInterval().toMillis())));
        RangeCopy.Progress done = copy.run("copy-" + state.getMigrationId(), tick, progress -> {
            record(progress);
            migration.plane.ownership().check();
            migration.progress();
            migration.takeRequests();
            return !migration.giveUpRequested();
        });
        record(done);
        if (!done.finished()) {
            return;
        }
        int writers = migration.config.copyStreams();
        migration.transition(MigrationPhase.CATCHING_UP, "copied " + state.getCopiedDocs() + " documents (" + state.getCopiedBytes()
            + " bytes) from one scan in key order by " + writers + " writer" + (writers == 1 ? "" : "s"));
    }

    private void record(RangeCopy.Progress progress) {
        MigrationState state = migration.state;
        state.setCopiedDocs(progress.documents());
        state.setCopiedBytes(progress.bytes());
        if (progress.finished() && state.getChunkMax() != null) {
            state.setLastCopiedKey(state.getChunkMax());
        } else {
            state.setLastCopiedKey(KeyHex.bytes(progress.resumeKey()));
        }
    }
}
