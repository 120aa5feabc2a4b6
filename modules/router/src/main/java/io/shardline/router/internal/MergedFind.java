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
 */
final class MergedFind implements QueryCursor {

    /** A shard's cursor and the document at its head. */
    private static final class Head {
        private final String shard;
        private final MongoCursor<Document> cursor;
        private Document document;

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
               List<String> missing, boolean allowPartial) {
        this.view = view;
        this.targets = targets;
        this.projection = projection;
        this.releases = releases;
        this.clients = clients;
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
        if (advance(head)) {
            sorted.add(head);
        }
        return document;
    }

    private Document nextUnsorted() {
        while (!unsorted.isEmpty()) {
            Head head = unsorted.get(0);
            if (advance(head)) {
                return head.document;
            }
            unsorted.remove(0);
        }
        return null;
    }

    /** Moves a shard's head to its next document; false when the shard has no more (or left, partial). */
    private boolean advance(Head head) {
        try {
            if (head.cursor.hasNext()) {
                head.document = head.cursor.next();
                return true;
            }
        } catch (MongoException e) {
            if (!allowPartial) {
                close();
                throw clients.failure(head.shard, e);
            }
            missing.add(head.shard);
        }
        head.document = null;
        head.cursor.close();
        return false;
    }

    @Override
    public List<String> shards() {
        return targets.shards();
    }

    @Override
    public List<String> missingShards() {
        return List.copyOf(missing);
    }

    @Override
    public void checkRanges() {
        for (String shard : heads.keySet()) {
            if (!missing.contains(shard)) {
                releases.verifyNow(view, shard, targets.chunksByShard().get(shard));
            }
        }
    }

    @Override
    public void close() {
        heads.values().forEach(head -> head.cursor.close());
    }
}
