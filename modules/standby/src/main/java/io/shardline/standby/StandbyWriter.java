package io.shardline.standby;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.sink.SinkRecord;
import org.bson.BSONException;
import org.bson.BsonDocument;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

import com.mongodb.MongoBulkWriteException;
import com.mongodb.MongoException;
import com.mongodb.bulk.BulkWriteError;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.BulkWriteOptions;
import com.mongodb.client.model.DeleteOneModel;
import com.mongodb.client.model.ReplaceOneModel;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.WriteModel;

import io.shardline.backup.ChangeRecord;

/**
 * Applies a shard's CDC records to its standby, each namespace's in its topic's order: a post-image (create, update,
 * snapshot read) replaces the document by {@code _id}, inserting it when absent; a delete deletes it; an update whose
 * post-image is missing and a tombstone change nothing. Marker documents are applied as any other: they are part of
 * the shard's data while they exist. Each namespace's writes go in ordered bulk writes, then its progress is recorded
 * ({@link StandbyProgress}).
 *
 * <p>A record that cannot be read, or whose document the standby refuses, goes to the dead-letter topic
 * ({@link ErrantRecords}) and the records after it are applied. A standby that cannot take writes now throws a
 * retriable exception ({@link StandbyFailures}) and Connect hands the same records over again.
 */
final class StandbyWriter {

    private static final ReplaceOptions UPSERT = new ReplaceOptions().upsert(true);
    private static final BulkWriteOptions ORDERED = new BulkWriteOptions().ordered(true);

    private final MongoClient standby;
    private final ShardTopics topics;
    private final ErrantRecords errants;

    StandbyWriter(MongoClient standby, ShardTopics topics, ErrantRecords errants) {
        this.standby = standby;
        this.topics = topics;
        this.errants = errants;
    }

    /** Applies the records, as Connect hands them over (each partition's in offset order). */
    void apply(Collection<SinkRecord> records) {
        Map<String, NamespaceBatch> batches = new LinkedHashMap<>();
        for (SinkRecord record : records) {
            String namespace;
            try {
                namespace = topics.namespace(record.originalTopic());
            } catch (IllegalArgumentException e) {
                errants.report(record, e.getMessage(), e);
                continue;
            }
            if (record.originalKafkaPartition() != 0) {
                errants.report(record, "partition: " + record.originalKafkaPartition() + "; a shard's CDC topic has one partition, 0", null);
                continue;
            }
            read(record, batches.computeIfAbsent(namespace, ns -> new NamespaceBatch(ns, record.originalTopic())));
        }
        for (NamespaceBatch batch : batches.values()) {
            write(batch);
        }
    }

    private static void read(SinkRecord record, NamespaceBatch batch) {
        byte[] key = bytes(record.key(), "key");
        byte[] value = bytes(record.value(), "value");
        if (value == null) {
            // A tombstone, which a connector that writes them sends after a delete: the delete already applied.
            batch.unchanged(record);
            return;
        }
        ChangeRecord change;
        try {
            change = ChangeRecord.of(record.originalKafkaOffset(), key, value);
        } catch (IllegalArgumentException e) {
            batch.unreadable(record, e.getMessage(), e);
            return;
        }
        batch.reached(change.clusterTime());
        if (change.after() != null) {
            BsonValue id = change.after().get("_id");
            if (id == null) {
                batch.unreadable(record, "value.after._id: missing", null);
            } else {
                batch.write(record, id, new ReplaceOneModel<>(new BsonDocument("_id", id), change.after(), UPSERT), change.clusterTime());
            }
        } else if (change.imageMissing()) {
            batch.unchanged(record);
        } else {
            batch.write(record, change.id(), new DeleteOneModel<>(new BsonDocument("_id", change.id())), change.clusterTime());
        }
    }

    /** The record's key or value as the bytes {@code ByteArrayConverter} gives; any other converter stops the task. */
    private static byte[] bytes(Object data, String part) {
        if (data == null || data instanceof byte[]) {
            return (byte[]) data;
        }
        throw new ConnectException(part + ".converter: must be " + StandbySinkConnector.BYTE_ARRAY_CONVERTER + "; the record's " + part
            + " arrived as " + data.getClass().getName());
    }

    /** Applies one namespace's records in order, then records how far it got. */
    private void write(NamespaceBatch batch) {
        MongoCollection<RawBsonDocument> collection = standby.getDatabase(ShardTopics.database(batch.namespace()))
            .getCollection(ShardTopics.collection(batch.namespace()), RawBsonDocument.class);
        List<NamespaceBatch.Item> pending = new ArrayList<>();
        long reported = -1;
        for (NamespaceBatch.Item item : batch.items()) {
            if (item.write() != null) {
                pending.add(item);
            } else if (item.problem() != null) {
                // Written first, so that what is reported for a partition goes in offset order.
                reported = Math.max(reported, writeAll(collection, batch, pending));
                pending.clear();
                errants.report(item.record(), item.problem(), item.cause());
                reported = Math.max(reported, item.offset());
            }
        }
        reported = Math.max(reported, writeAll(collection, batch, pending));
        try {
            StandbyProgress.record(standby, batch.namespace(), batch.topic(), batch.lastOffset(), reported, batch.clusterTime(), batch.refusedTimes());
        } catch (MongoException e) {
            throw StandbyFailures.of(e, "recording the progress of " + batch.namespace() + " on the standby");
        }
    }

    /**
     * Makes the writes in order, in ordered bulk writes; a document the standby refuses is reported and the writes
     * after it go on. Returns the offset of the last record reported, or -1.
     */
    private long writeAll(MongoCollection<RawBsonDocument> collection, NamespaceBatch batch, List<NamespaceBatch.Item> writes) {
        String namespace = batch.namespace();
        long reported = -1;
        int from = 0;
        while (from < writes.size()) {
            List<WriteModel<RawBsonDocument>> models = writes.subList(from, writes.size()).stream().map(NamespaceBatch.Item::write).toList();
            try {
                collection.bulkWrite(models, ORDERED);
                return reported;
            } catch (MongoBulkWriteException e) {
                BulkWriteError error = refusal(e, namespace);
                NamespaceBatch.Item refused = writes.get(from + error.getIndex());
                reportRefusal(batch, refused, error.getCode() + ": " + error.getMessage(), e);
                reported = refused.offset();
                from += error.getIndex() + 1;
            } catch (IllegalArgumentException | BSONException e) {
                // The bulk failed without naming the document at fault (the driver refused one before sending it, or
                // could not read the standby's answer about it): the rest are written one by one, in order, to find it.
                // Writes the bulk made before it are made again, in order, which ends in the same state.
                return Math.max(reported, writeOneByOne(collection, batch, writes.subList(from, writes.size())));
            } catch (MongoException e) {
                throw StandbyFailures.of(e, "writing to " + namespace + " on the standby");
            }
        }
        return reported;
    }

    private long writeOneByOne(MongoCollection<RawBsonDocument> collection, NamespaceBatch batch, List<NamespaceBatch.Item> writes) {
        String namespace = batch.namespace();
        long reported = -1;
        for (NamespaceBatch.Item item : writes) {
            try {
                collection.bulkWrite(List.of(item.write()), ORDERED);
            } catch (MongoBulkWriteException e) {
                BulkWriteError error = refusal(e, namespace);
                reportRefusal(batch, item, error.getCode() + ": " + error.getMessage(), e);
                reported = item.offset();
            } catch (IllegalArgumentException | BSONException e) {
                reportRefusal(batch, item, e.getMessage(), e);
                reported = item.offset();
            } catch (MongoException e) {
                throw StandbyFailures.of(e, "writing to " + namespace + " on the standby");
            }
        }
        return reported;
    }

    /** The one document an ordered bulk write refused; a failure of the standby rather than of a document throws. */
    private static BulkWriteError refusal(MongoBulkWriteException failure, String namespace) {
        if (failure.getWriteConcernError() != null || failure.getWriteErrors().isEmpty()
            || StandbyFailures.transientCode(failure.getWriteErrors().get(0).getCode())) {
            throw StandbyFailures.of(failure, "writing to " + namespace + " on the standby");
        }
        return failure.getWriteErrors().get(0);
    }

    private void reportRefusal(NamespaceBatch batch, NamespaceBatch.Item item, String why, Throwable cause) {
        String namespace = batch.namespace();
        batch.refused(item);
        boolean deletion = item.write() instanceof DeleteOneModel;
        String what = deletion ? "key.id: the standby refused to delete " : "value.after: the standby refused the document ";
        errants.report(item.record(), what + new BsonDocument("_id", item.id()).toJson() + " of " + namespace + " (" + why + ")", cause);
    }
}
