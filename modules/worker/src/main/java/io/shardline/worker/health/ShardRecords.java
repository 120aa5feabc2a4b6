package io.shardline.worker.health;

import org.bson.BsonDocument;

import com.mongodb.client.MongoClient;

import io.shardline.core.key.KeyHex;
import io.shardline.core.key.KeyRange;
import io.shardline.core.routing.RangeRelease;
import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.TopicCatalog;
import io.shardline.schemas.avro.MigrationPhase;
import io.shardline.schemas.avro.MigrationState;
import io.shardline.worker.plane.ControlPlane;
import io.shardline.worker.plane.RangeDeletions;
import io.shardline.worker.plane.ShardConnections;

/**
 * What a shard keeps about migrations besides documents — the range deletions still to run on it (decision 0021) and
 * the records of ranges that left it (decision 0026) — written anew on a standby before it is promoted: they live in
 * the {@code shardline} database, which the CDC connectors do not capture, so the sink never brought them. They are
 * derived from the migrations table, as the migrations themselves recorded them:
 * <ul>
 *   <li>every migration from the shard past its plan and not ended: its source-side deletion (a migration back into
 *       the shard waits for it);</li>
 *   <li>every migration into the shard being given up and not ended: its target-side deletion;</li>
 *   <li>every migration from the shard that cut over: the release of its range, at the routing version of the chunk's
 *       route now (no older than the one it was released at, so a router reading with older routing refreshes).</li>
 * </ul>
 */
final class ShardRecords {

    private ShardRecords() {
    }

    /** Writes the records of {@code shardId}'s migrations on {@code standby}; returns how many. */
    static int restore(ControlPlane plane, String shardId, MongoClient standby) {
        RangeDeletions deletions = new RangeDeletions(standby.getDatabase(RangeDeletions.DATABASE).getCollection(RangeDeletions.COLLECTION, BsonDocument.class));
        int written = 0;
        for (MigrationState migration : plane.migrations().refresh().values().values()) {
            boolean ended = MigrationPhases.ended(migration);
            String min = KeyHex.of(migration.getChunkMin());
            String max = KeyHex.of(migration.getChunkMax());
            boolean planned = migration.getPhase() != MigrationPhase.PLANNED;
            if (migration.getSourceShardId().equals(shardId) && planned && !ended) {
                deletions.record(new RangeDeletions.Task(migration.getMigrationId(), RangeDeletions.Side.SOURCE, migration.getNamespace(), min, max));
                written++;
            }
            if (migration.getTargetShardId().equals(shardId) && !ended && (migration.getRollbackRequested() || migration.getAbortRequested())) {
                deletions.record(new RangeDeletions.Task(migration.getMigrationId(), RangeDeletions.Side.TARGET, migration.getNamespace(), min, max));
                written++;
            }
            boolean cutOver = migration.getPhase() == MigrationPhase.CUT_OVER || migration.getPhase() == MigrationPhase.CLEANED;
            var route = plane.routing().entry(TopicCatalog.routingKey(migration.getNamespace(), min));
            if (migration.getSourceShardId().equals(shardId) && cutOver && route != null) {
                ShardConnections.recordRelease(standby, new RangeRelease(migration.getNamespace(), KeyRange.ofEncoded(migration.getChunkMin(),
                    migration.getChunkMax()), migration.getTargetShardId(), migration.getMigrationId(), route.offset() + 1));
                written++;
            }
        }
        return written;
    }
}
