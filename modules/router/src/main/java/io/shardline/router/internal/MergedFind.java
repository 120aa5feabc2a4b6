package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.PriorityQueue;

import org.bson.Document;

import com.mongodb.MongoException;
import com.mongodb.client.MongoCursor;

import io.shardline.router.api.QueryCursor;

/**
 * A find over the shards' own cursors, consumed lazily: sorted, a k-way merge that takes one document at a time from
 * the shard whose head sorts first (a shard's cursor fetches its next batch only when its head is taken); unsorted,
 * the shards one after the other. Skip and limit apply to the merged order; each shard returns at most skip + limit.
 * A shard's next batch is not fetched while its descriptor says DOWN, nor are the documents it gave checked against
 * its released ranges: the read fails at once naming it, or, when it allows a partial answer, goes on without that
 * shard.
 */
final class MergedFind implements QueryCursor {

    /**
     * A shard's cursor and the document at its head; {@code unchecked} while documents it gave have not been checked
     * against the shard's released ranges yet.
     */
    private static final class Head {
        private final String shard;
        private final MongoCursor<Document> cursor;
        private Document document;
        private boolean unchecked;

        Head(String shard, MongoCursor<Document> cursor) {
            this.shard = shard;
            this.cursor = cursor;
        }
    }

    private final NamespaceView view;
    private final ShardTargets targets;
    private final Map<String, Head> heads;
    private final PriorityQueue<Head> sorted;
    private final List<Head> unsorted;
    private final Projections.Plan projection;
    private final ReleasedRanges releases;
    private final ShardClients clients;
    private final ShardAvailability availability;
    private final List<String> missing;
    private final boolean allowPartial;
    private long skip;
    private long remaining;
    private Document next;

    /**
     * @param cursors the shards' open cursors, in target order
     * @param order   the merge order, {@code null} for none
     * @param limit   documents to return at most, 0 for no limit
     */
    MergedFind(NamespaceView view, ShardTargets targets, Map<String, MongoCursor<Document>> cursors, DocumentOrder order,
               Projections.Plan projection, long skip, long limit, ReleasedRanges releases, ShardClients clients,
               ShardAvailability availability, List<String> missing, boolean allowPartial) {
        this.view = view;
        this.targets = targets;
        this.projection = projection;
        this.releases = releases;
        this.clients = clients;
        this.availability = availability;
        this.missing = new ArrayList<>(missing);
        this.allowPartial = allowPartial;
        this.skip = skip;
        this.remaining = limit == 0 ? Long.MAX_VALUE : limit;
        this.heads = new LinkedHashMap<>();
        cursors.forEach((shard, cursor) -> heads.put(shard, new Head(shard, cursor)));
        if (order == null) {
            this.sorted = null;
            this.unsorted = new ArrayList<>(heads.values());
        } else {
            Comparator<Head> byHead = (a, b) -> order.compare(a.document, b.document);
            this.sorted = new PriorityQueue<>(Math.max(1, heads.size()), byHead);
            this.unsorted = null;
            for (Head head : heads.values()) {
                if (advance(head)) {
                    sorted.add(head);
                }
            }
        }
    }

    @Override
    public boolean hasNext() {
        while (next == null && remaining > 0) {
            Document candidate = sorted != null ? nextSorted() : nextUnsorted();
            if (candidate == null) {
                remaining = 0;
                break;
            }
            if (skip > 0) {
                skip--;
                continue;
            }
            remaining--;
            next = projection.finish(candidate);
        }
        if (next == null) {
            close();
        }
        return next != null;
    }

    @Override
    public Document next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Document document = next;
        next = null;
        return document;
    }

    private Document nextSorted() {
        Head head = sorted.poll();
        if (head == null) {
            return null;
        }
        Document document = head.document;
        head.unchecked = true;
        if (advance(head)) {
            sorted.add(head);
        }
        return document;
    }

    private Document nextUnsorted() {
        while (!unsorted.isEmpty()) {
            Head head = unsorted.get(0);
            if (advance(head)) {
                head.unchecked = true;
                return head.document;
            }
            unsorted.remove(0);
        }
        return null;
    }

    /** Moves a shard's head to its next document; false when the shard has no more (or left, partial). */
    private boolean advance(Head head) {
        if (fetchesNextBatch(head) && availability.isDown(head.shard)) {
            leaveDown(head);
            return false;
        }
        try {
            if (head.cursor.hasNext()) {
                head.document = head.cursor.next();
                return true;
            }
        } catch (MongoException | IllegalStateException e) {
            if (e instanceof IllegalStateException && !ShardClients.closedUnderneath(e)) {
                throw e;
            }
            if (!allowPartial) {
                close();
                throw e instanceof MongoException mongo ? clients.failure(head.shard, mongo) : clients.closed(head.shard, (IllegalStateException) e);
            }
            missing.add(head.shard);
        }
        head.document = null;
        head.cursor.close();
        return false;
    }

    /** Whether a shard's next document is read from the shard: its last batch is used up and its cursor is open there. */
    private static boolean fetchesNextBatch(Head head) {
        return head.cursor.available() == 0 && head.cursor.getServerCursor() != null;
    }

    @Override
    public List<String> shards() {
        return targets.shards();
    }

    @Override
    public List<String> missingShards() {
        return List.copyOf(missing);
    }

    /**
     * A shard that is DOWN: the read fails naming it, or, allowing a partial answer, goes on without it (named among
     * the missing). The caller takes the head out of the merge.
     */
    private void leaveDown(Head head) {
        if (!allowPartial) {
            close();
            throw availability.refuse("getMore", List.of(head.shard));
        }
        availability.leftOut(head.shard);
        missing.add(head.shard);
        head.document = null;
        head.unchecked = false;
        head.cursor.close();
    }

    /**
     * Checks the shards that gave documents since the last check (a shard that gave none has nothing new to check). A
     * shard that is DOWN is not asked: see {@link #leaveDown}.
     */
    @Override
    public void checkRanges() {
        for (Head head : heads.values()) {
            if (!head.unchecked || missing.contains(head.shard)) {
                continue;
            }
            if (availability.isDown(head.shard)) {
                if (allowPartial) {
                    if (sorted != null) {
                        sorted.remove(head);
                    } else {
                        unsorted.remove(head);
                    }
                }
                leaveDown(head);
                continue;
            }
            releases.verifyNow(view, head.shard, targets.chunksByShard().get(head.shard));
            head.unchecked = false;
        }
    }

    @Override
    public void close() {
        heads.values().forEach(head -> head.cursor.close());
    }
}
