package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

import org.bson.Document;

import com.mongodb.MongoException;

import io.shardline.router.api.RouterException;

/**
 * The unique indexes of a namespace other than {@code _id}, as its shards have them (an index is created on every
 * shard), read again after {@link #FRESH_MILLIS}, or at once after an index changed through this router. A transaction's update keeps its new value in the intent, which no
 * index covers until the commit resolves it: an update that changes a field of a unique index is refused when it runs,
 * naming the field and the index, rather than found to break the index once committed.
 */
final class UniqueIndexes {

    private static final long FRESH_MILLIS = 10_000;

    private record Known(List<Index> indexes, long readAt) {
    }

    private record Index(String name, List<String> fields) {
    }

    private final ShardClients clients;
    private final Map<String, Known> known = new ConcurrentHashMap<>();

    UniqueIndexes(ShardClients clients) {
        this.clients = clients;
    }

    /**
     * Refuses an update of a document from {@code committed} to {@code next} that changes a field of one of the
     * namespace's unique indexes other than {@code _id}.
     *
     * @throws RouterException BAD_REQUEST naming the field and the index
     */
    void requireUnchanged(NamespaceView view, Document committed, Document next) {
        for (Index index : indexes(view)) {
            for (String field : index.fields()) {
                if (!Objects.equals(TxnIntents.valueAt(committed, field), TxnIntents.valueAt(next, field))) {
                    throw new RouterException(RouterException.Kind.BAD_REQUEST, "update: '" + field + "' is a field of the unique index '"
                        + index.name() + "' of " + view.namespace() + ", which a transaction cannot change (its new value is not indexed "
                        + "before the commit); change it outside a transaction");
                }
            }
        }
    }

    /** Reads {@code namespace}'s indexes again at its next check (they changed through this router). */
    void forget(String namespace) {
        known.remove(namespace);
    }

    private List<Index> indexes(NamespaceView view) {
        Known current = known.get(view.namespace());
        long now = System.currentTimeMillis();
        if (current != null && now - current.readAt() < FRESH_MILLIS) {
            return current.indexes();
        }
        String shard = view.routing().chunks().get(0).shardId();
        int dot = view.namespace().indexOf('.');
        List<Index> indexes = new ArrayList<>();
        try {
            for (Document index : clients.client(shard).getDatabase(view.namespace().substring(0, dot))
                .getCollection(view.namespace().substring(dot + 1)).listIndexes()) {
                if (Boolean.TRUE.equals(index.get("unique")) && index.get("key") instanceof Document key && !key.keySet().equals(java.util.Set.of("_id"))) {
                    indexes.add(new Index(index.getString("name"), List.copyOf(key.keySet())));
                }
            }
        } catch (MongoException e) {
            if (e.getCode() != 26) { // NamespaceNotFound: a collection not created on that shard yet has no index
                throw clients.failure(shard, e);
            }
        }
        known.put(view.namespace(), new Known(List.copyOf(indexes), now));
        return indexes;
    }
}
