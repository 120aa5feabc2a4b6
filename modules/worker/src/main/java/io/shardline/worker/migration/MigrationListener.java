package io.shardline.worker.migration;

import java.time.Duration;

import io.shardline.schemas.avro.MigrationState;
import io.shardline.worker.data.RangeCopy;

/** What a migration reports as it goes (the worker's meters, and tooling that follows migrations in-process). */
public interface MigrationListener extends RangeCopy.Listener {

    /** Told of the state a run resumes from, and of every state it enters (once it is published). */
    void step(MigrationState state);

    void replayLag(String migrationId, long events, long millis);

    void fenceHeld(Duration held);
}
