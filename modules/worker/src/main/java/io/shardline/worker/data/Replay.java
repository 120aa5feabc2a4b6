package io.shardline.worker.data;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.bson.BsonDocument;
import org.bson.BsonString;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

import com.mongodb.client.model.Filters;
import io.shardline.worker.plane.ControlPlane;

/**
 * Applies one shard's changes to the other side of a range: each changed document is read from that shard as it is
 * now and written (or removed) on the other side ({@link RangeOps#sync}), so the order and repetition of changes do
 * not matter. A CDC record that cannot be read goes to the CDC dead-letter topic and the replay goes on.
 */
public final class Replay {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Replay.class);

    /** At most this many narrowing passes before a fence, each a catch-up and a comparison of the changed documents. */
    private static final int NARROW_PASSES = 6;
    /** Changed documents few enough to compare while fenced in a few milliseconds. */
    private static final int NARROWED_ENOUGH = 100;
    /** A last comparison this short leaves little written during it for the fence to drain and compare. */
    private static final long NARROWED_QUIET_MILLIS = 15;

    private final ControlPlane plane;
    private final RangeOps ops;
    private final String shardId;
    private final String namespace;
    private final String migrationId;

    /**
     * @param ops     the range, read from the shard whose changes are replayed
     * @param shardId that shard: markers are written there
     */
    public Replay(ControlPlane plane, RangeOps ops, String shardId, String namespace, String migrationId) {
        this.plane = plane;
        this.ops = ops;
        this.shardId = shardId;
        this.namespace = namespace;
        this.migrationId = migrationId;
    }

    /** Applies what one poll of the source brings, adding the changed ids to {@code changed}; returns how many changes it read. */
    public int apply(ChangeSource source, Set<BsonValue> changed, Duration wait) {
        List<CdcTail.Change> changes = source.poll(wait);
        Set<BsonValue> ids = new LinkedHashSet<>();
        for (CdcTail.Change change : changes) {
            if (change.error() != null) {
                plane.cdcDeadLetter(change.record(), change.error());
            } else {
                ids.add(change.id());
            }
        }
        ops.sync(ids);
        changed.addAll(ids);
        return changes.size();
    }

    /** Applies the changes the source has now: at least one poll, more while more are waiting (at most 20); returns how many. */
    public int catchUp(ChangeSource source, Set<BsonValue> changed) {
        int polls = 0;
        int applied = 0;
        do {
            applied += apply(source, changed, Duration.ofMillis(5));
        } while (++polls < 20 && source.behind());
        return applied;
    }

    /**
     * Drops the documents changed since the pre-check that both sides agree on now: they need no comparison while
     * fenced (a later change brings them back through the replay). Each pass first drains the source to a marker, so
     * every change written before it is applied however late the source delivers it, then compares; what the fence
     * has to drain and compare is what was written during the last comparison, so the passes go on until one is both
     * small and short (or the passes run out).
     *
     * @param markerPrefix the passes' markers are this and the pass number
     * @param deadlineMillis when a pass's drain gives up (and the narrowing with it)
     */
    public void narrow(ChangeSource source, Set<BsonValue> changed, String markerPrefix, long deadlineMillis) {
        for (int pass = 0; pass < NARROW_PASSES; pass++) {
            int before = changed.size();
            if (!drainTo(source, markerPrefix + (pass + 1), deadlineMillis, changed)) {
                return;
            }
            int applied = changed.size() - before;
            long started = System.nanoTime();
            int compared = changed.size();
            changed.retainAll(ops.differing(List.copyOf(changed)));
            long millis = (System.nanoTime() - started) / 1_000_000;
            LOG.debug("migration {}: narrowing pass {}: {} documents more, {} of {} documents still differ, compared in {} ms", migrationId,
                pass + 1, applied, changed.size(), compared, millis);
            if (changed.size() <= NARROWED_ENOUGH && millis <= NARROWED_QUIET_MILLIS) {
                return;
            }
        }
    }

    /** One narrowing pass without a bound on its length: applies the changes the source has now and keeps only those that differ. */
    public void narrowOnce(ChangeSource source, Set<BsonValue> changed) {
        catchUp(source, changed);
        changed.retainAll(ops.differing(List.copyOf(changed)));
    }

    /**
     * Writes a marker document on the shard and applies changes until the marker's own change arrives: the shard's
     * changes come in order, so everything before it has been applied. False when the deadline came first.
     *
     * @param changed where the ids applied are added, or null
     */
    public boolean drainTo(ChangeSource source, String marker, long deadlineMillis, Set<BsonValue> changed) {
        var markers = plane.shardConnections().collection(shardId, namespace);
        // Unique to this drain: a run that stopped with its shard (the marker written, its deletion lost) and is resumed
        // counts its markers from the start again, and must neither collide with the one left behind nor take that
        // one's older change for its own.
        BsonString markerId = new BsonString(marker + "@" + java.util.UUID.randomUUID().toString().substring(0, 8));
        plane.ownership().check();
        markers.insertOne(RawBsonDocument.parse(new BsonDocument("_id", markerId).append("shardlineMarker", new BsonString(migrationId)).toJson()));
        long written = System.currentTimeMillis();
        long oldest = Long.MAX_VALUE;
        int drained = 0;
        try {
            while (System.currentTimeMillis() < deadlineMillis) {
                List<CdcTail.Change> changes = source.poll(Duration.ofMillis(20));
                drained += changes.size();
                for (CdcTail.Change change : changes) {
                    oldest = Math.min(oldest, change.timestamp());
                }
                Set<BsonValue> ids = new LinkedHashSet<>();
                boolean seen = false;
                for (CdcTail.Change change : changes) {
                    if (change.error() != null) {
                        plane.cdcDeadLetter(change.record(), change.error());
                    } else if (markerId.equals(change.id())) {
                        seen = true;
                    } else {
                        ids.add(change.id());
                    }
                }
                ops.sync(ids);
                if (changed != null) {
                    changed.addAll(ids);
                }
                if (seen) {
                    LOG.debug("migration {}: drained {} changes to marker {} in {} ms, the oldest written {} ms before the marker", migrationId,
                        drained, marker, System.currentTimeMillis() - written, oldest == Long.MAX_VALUE ? 0 : written - oldest);
                    return true;
                }
            }
            return false;
        } finally {
            markers.deleteOne(Filters.eq("_id", markerId));
        }
    }
}
