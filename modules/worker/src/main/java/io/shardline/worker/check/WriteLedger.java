package io.shardline.worker.check;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.bson.Document;

import com.mongodb.client.MongoClient;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.Projections;

import io.shardline.core.key.KeyHex;
import io.shardline.schemas.MigrationPhases;
import io.shardline.schemas.avro.ChunkRoute;
import io.shardline.schemas.avro.MigrationState;

/**
 * Every write the workload made and the router acknowledged, by document: the value ({@code v}) it left behind, or
 * {@link #DELETED}. A write that failed leaves its outcome unknown, so both the value before and the value it tried are
 * allowed until a later write is acknowledged. {@link #check} reads every shard directly and holds the result against it.
 */
public final class WriteLedger {

    /** The value of a document whose last acknowledged write deleted it. */
    public static final int DELETED = -1;

    /** A document: namespace and {@code _id}. */
    public record Key(String namespace, String id) {
    }

    /** What {@link #check} found. */
    public record Verdict(long checked, long lost, long resurrected, long duplicated, long awaitingCleanup, long unknown,
                          List<String> examples) {
        public boolean clean() {
            return lost == 0 && resurrected == 0 && duplicated == 0 && unknown == 0;
        }
    }

    private final Map<Key, Integer> acknowledged = new ConcurrentHashMap<>();
    private final Map<Key, Set<Integer>> uncertain = new ConcurrentHashMap<>();
    private final WriteTimeline timeline = new WriteTimeline();

    /** Before a write: until it is acknowledged, the old and the new value are both possible. */
    public void attempt(Key key, int value) {
        Set<Integer> possible = uncertain.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet());
        possible.add(acknowledged.getOrDefault(key, DELETED));
        possible.add(value);
        timeline.sent(key, value, System.currentTimeMillis());
    }

    /** The router acknowledged the write: this is now the document's value. */
    public void acknowledge(Key key, int value) {
        acknowledged.put(key, value);
        uncertain.remove(key);
        timeline.acknowledged(key, value, System.currentTimeMillis());
    }

    /** When each write was sent and acknowledged. */
    public WriteTimeline timeline() {
        return timeline;
    }

    /** Documents with an acknowledged write. */
    public long acknowledgedDocuments() {
        return acknowledged.size();
    }

    /**
     * Reads the namespaces' documents on every shard and compares: an acknowledged document missing or with another
     * value on its owner is lost; a deleted one found there is resurrected; a copy on a second shard is a duplicate,
     * unless a migration of its range that has not ended yet explains it (awaiting cleanup); a document nobody wrote is
     * unknown.
     *
     * @param routing    the routing table's chunks
     * @param migrations the migrations table
     */
    public Verdict check(Map<String, MongoClient> shards, Collection<String> namespaces, Collection<ChunkRoute> routing,
                         Collection<MigrationState> migrations) {
        Map<Key, Map<String, Document>> found = new HashMap<>();
        for (String namespace : namespaces) {
            int dot = namespace.indexOf('.');
            shards.forEach((shard, client) -> {
                for (Document doc : client.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1))
                    .find(Filters.exists("_sk")).projection(Projections.include("_id", "_sk", "v"))) {
                    found.computeIfAbsent(new Key(namespace, String.valueOf(doc.get("_id"))), k -> new HashMap<>()).put(shard, doc);
                }
            });
        }
        long lost = 0;
        long resurrected = 0;
        long duplicated = 0;
        long awaiting = 0;
        long unknown = 0;
        List<String> examples = new ArrayList<>();
        for (Map.Entry<Key, Integer> entry : acknowledged.entrySet()) {
            Key key = entry.getKey();
            Map<String, Document> copies = found.getOrDefault(key, Map.of());
            Document owned = null;
            for (Map.Entry<String, Document> copy : copies.entrySet()) {
                String owner = owner(routing, key.namespace(), copy.getValue().getString("_sk"));
                if (copy.getKey().equals(owner)) {
                    owned = copy.getValue();
                } else if (copies.size() > 1) {
                    if (moving(migrations, key.namespace(), copy.getValue().getString("_sk"), copy.getKey())) {
                        awaiting++;
                    } else {
                        duplicated++;
                        example(examples, key + " also on " + copy.getKey() + ", which does not own it");
                    }
                } else {
                    owned = copy.getValue();
                    if (!moving(migrations, key.namespace(), copy.getValue().getString("_sk"), copy.getKey())) {
                        example(examples, key + " only on " + copy.getKey() + ", which does not own it");
                        lost++;
                        continue;
                    }
                }
            }
            int value = owned == null ? DELETED : owned.getInteger("v", Integer.MIN_VALUE);
            Set<Integer> possible = uncertain.get(key);
            boolean ok = possible == null ? value == entry.getValue() : possible.contains(value);
            if (!ok) {
                if (value != DELETED && entry.getValue() == DELETED) {
                    resurrected++;
                    example(examples, key + " was deleted and is back with v=" + value);
                } else {
                    lost++;
                    example(examples, key + " acknowledged v=" + entry.getValue() + ", found " + (owned == null ? "nothing" : "v=" + value)
                        + " (last writes: " + timeline.history(key, 3) + ")");
                }
            }
        }
        for (Key key : found.keySet()) {
            if (!acknowledged.containsKey(key) && !uncertain.containsKey(key)) {
                unknown++;
                example(examples, key + " was never written by the workload");
            }
        }
        return new Verdict(acknowledged.size(), lost, resurrected, duplicated, awaiting, unknown, examples);
    }

    private static void example(List<String> examples, String line) {
        if (examples.size() < 10) {
            examples.add(line);
        }
    }

    private static String owner(Collection<ChunkRoute> routing, String namespace, String keyHex) {
        for (ChunkRoute route : routing) {
            if (route.getNamespace().equals(namespace) && within(keyHex, route.getMin(), route.getMax())) {
                return route.getShardId();
            }
        }
        return null;
    }

    /** Whether a migration that has not ended yet moves the key's range from or to the shard. */
    private static boolean moving(Collection<MigrationState> migrations, String namespace, String keyHex, String shard) {
        for (MigrationState migration : migrations) {
            if (!MigrationPhases.ended(migration) && migration.getNamespace().equals(namespace) && within(keyHex, migration.getChunkMin(), migration.getChunkMax())
                && (shard.equals(migration.getSourceShardId()) || shard.equals(migration.getTargetShardId()))) {
                return true;
            }
        }
        return false;
    }

    private static boolean within(String keyHex, ByteBuffer min, ByteBuffer max) {
        return keyHex.compareTo(KeyHex.of(min)) >= 0 && (max == null || keyHex.compareTo(KeyHex.of(max)) < 0);
    }
}
