package io.shardline.worker.command;

import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.avro.LaneRequest;
import io.shardline.schemas.avro.LaneRequestKind;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.schemas.avro.ShardEventType;
import io.shardline.worker.config.WorkerConfig;

/**
 * Carries out one record of a migration lane this worker holds: RUN queues the admitted migration on the lane's runner,
 * ABORT and ROLLBACK are handed to it (to the run when it runs here, else published on its state). A request is carried
 * out once the migrations table shows the migration admitted to this lane: the admission's state and its request are one
 * transaction, but a reader may see the request a moment before the state. A record that cannot be read goes to the
 * commands DLQ with its origin.
 */
final class LaneRequests {

    private static final Logger LOG = LoggerFactory.getLogger(LaneRequests.class);
    /** How long a request waits for its admission to show in the migrations table before it is retried from its offset. */
    static final Duration ADMISSION_WAIT = Duration.ofSeconds(10);

    private final WorkerConfig config;

    LaneRequests(WorkerConfig config) {
        this.config = config;
    }

    void handle(Term lane, int laneIndex, ConsumerRecord<byte[], byte[]> record) {
        LaneRequest request;
        try {
            request = config.catalog().migrationLanes().valueSerde().deserializer().deserialize(record.topic(), record.value());
            if (request == null) {
                throw new IllegalArgumentException("value: a lane request needs a value");
            }
        } catch (RuntimeException unreadable) {
            LOG.warn("lane {} request at offset {} unreadable: {}", laneIndex, record.offset(), unreadable.getMessage());
            lane.plane().deadLetter(record, unreadable, "value");
            lane.plane().event(ShardEventType.COMMAND_REJECTED, null, null, null, null, null,
                "unreadable request on migration lane " + laneIndex + ": " + unreadable.getMessage(), Map.of());
            return;
        }
        MigrationState state = admitted(lane, laneIndex, request.getMigrationId());
        if (state == null) {
            LOG.info("lane {}: migration {} has ended or runs elsewhere; {} skipped", laneIndex, request.getMigrationId(), request.getKind());
            return;
        }
        if (request.getKind() == LaneRequestKind.RUN) {
            lane.runner().submit(state.getMigrationId());
        } else {
            lane.runner().request(state, request.getKind() == LaneRequestKind.ABORT);
        }
    }

    /** The migration once the table shows it admitted to this lane; null when it has ended or is another lane's. */
    private static MigrationState admitted(Term lane, int laneIndex, String migrationId) {
        long deadline = System.nanoTime() + ADMISSION_WAIT.toNanos();
        while (true) {
            MigrationState state = lane.plane().migrations().get(migrationId);
            if (state != null && MigrationPhases.ended(state)) {
                return null;
            }
            if (state != null && state.getLane() >= 0) {
                return state.getLane() == laneIndex ? state : null;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("migration " + migrationId + " is not shown admitted to lane " + laneIndex + " after "
                    + ADMISSION_WAIT.toSeconds() + " s");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for migration " + migrationId, e);
            }
        }
    }
}
