package io.shardline.router.internal;

import java.util.List;
import java.util.function.BooleanSupplier;

import org.bson.BsonDocument;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.shardline.core.routing.Chunk;
import io.shardline.core.routing.RangeRelease;
import io.shardline.router.api.RouterException;

/**
 * The shard's side of stale routing. A migration worker records on the old owner that a range left it (with the
 * routing version that moved it) before it deletes the range there. After reading chunks from a shard, a read asks
 * that shard for such records newer than the routing it used; one that overlaps a chunk it read means the read may
 * have raced the deletion, and the read is refused as {@link StaleRouting} for the caller to refresh and retry.
 * The records are read after the documents, so a record that is not there yet means the deletion had not begun.
 */
public final class ReleasedRanges {

    private static final Logger LOG = LoggerFactory.getLogger(ReleasedRanges.class);

    /** A read that used routing older than a range's release on a shard it read. */
    public static final class StaleRouting extends RouterException {

        private static final long serialVersionUID = 1L;

        private final long requiredVersion;

        StaleRouting(String shard, RangeRelease release, long usedVersion) {
            super(Kind.RETRYABLE, "routing: shard " + shard + " no longer holds " + release.range() + " of " + release.namespace()
                + " (moved to " + release.toShard() + " by migration " + release.migrationId() + " at routing version "
                + release.routingVersion() + "); the read used routing version " + usedVersion + "; retry");
            this.requiredVersion = release.routingVersion();
        }

        /** The routing version a retry must have applied. */
        public long requiredVersion() {
            return requiredVersion;
        }
    }

    private final ShardClients clients;
    private final BooleanSupplier enabled;

    /** @param enabled whether reads check now (always, or while the router's lease has lapsed) */
    public ReleasedRanges(ShardClients clients, BooleanSupplier enabled) {
        this.clients = clients;
        this.enabled = enabled;
    }

    /** @throws StaleRouting when the shard released one of {@code chunksRead} at a version the view predates */
    public void verify(NamespaceView view, String shard, List<Chunk> chunksRead) {
        if (enabled.getAsBoolean()) {
            verifyNow(view, shard, chunksRead);
        }
    }

    /** As {@link #verify}, whatever the router's lease: for reads that outlive it, such as an open cursor. */
    public void verifyNow(NamespaceView view, String shard, List<Chunk> chunksRead) {
        var releases = clients.client(shard).getDatabase(RangeRelease.DATABASE).getCollection(RangeRelease.COLLECTION, BsonDocument.class);
        for (BsonDocument document : releases.find(RangeRelease.newerThan(view.namespace(), view.routingVersion()))) {
            RangeRelease release;
            try {
                release = RangeRelease.fromDocument(document);
            } catch (IllegalArgumentException unreadable) {
                LOG.warn("shard {}: ignoring an unreadable record in {}.{} ({}): {}", shard, RangeRelease.DATABASE,
                    RangeRelease.COLLECTION, document.get("_id"), unreadable.getMessage());
                continue;
            }
            for (Chunk chunk : chunksRead) {
                if (release.range().overlaps(chunk.range())) {
                    throw new StaleRouting(shard, release, view.routingVersion());
                }
            }
        }
    }
}
