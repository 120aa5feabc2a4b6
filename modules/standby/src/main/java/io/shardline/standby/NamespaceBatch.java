package io.shardline.standby;

import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.connect.sink.SinkRecord;
import org.bson.BsonValue;
import org.bson.RawBsonDocument;

import com.mongodb.client.model.WriteModel;

/**
 * The records of one namespace in one {@code put}, in their topic's order: each a write to make, a record that
 * changes nothing, or one that cannot be read (with what is wrong with it).
 */
final class NamespaceBatch {

    /**
     * One record: {@code write} to make to the document {@code id}, or {@code problem} to report, or neither (nothing
     * to change).
     */
    record Item(SinkRecord record, BsonValue id, WriteModel<RawBsonDocument> write, String problem, Throwable cause, long clusterTime) {

        long offset() {
            return record.originalKafkaOffset();
        }
    }

    private final String namespace;
    private final String topic;
    private final List<Item> items = new ArrayList<>();
    private long clusterTime;
    private final List<Long> refusedTimes = new ArrayList<>();

    NamespaceBatch(String namespace, String topic) {
        this.namespace = namespace;
        this.topic = topic;
    }

    String namespace() {
        return namespace;
    }

    String topic() {
        return topic;
    }

    List<Item> items() {
        return items;
    }

    void write(SinkRecord record, BsonValue id, WriteModel<RawBsonDocument> write, long recordClusterTime) {
        items.add(new Item(record, id, write, null, null, recordClusterTime));
    }

    /** Notes a write the standby refused: its cluster time is passed by {@link #clusterTime()} but not held. */
    void refused(Item item) {
        if (item.clusterTime() > 0) {
            refusedTimes.add(item.clusterTime());
        }
    }

    /** The cluster times of the batch's writes the standby refused. */
    List<Long> refusedTimes() {
        return refusedTimes;
    }

    /** Notes the cluster time of a record of the batch that was read; {@link #clusterTime()} is the latest. */
    void reached(long recordClusterTime) {
        clusterTime = Math.max(clusterTime, recordClusterTime);
    }

    /** The latest shard cluster time among the batch's records that could be read; 0 when none carried one. */
    long clusterTime() {
        return clusterTime;
    }

    void unchanged(SinkRecord record) {
        items.add(new Item(record, null, null, null, null, 0));
    }

    void unreadable(SinkRecord record, String problem, Throwable cause) {
        items.add(new Item(record, null, null, problem, cause, 0));
    }

    /** The offset of the batch's last record. */
    long lastOffset() {
        return items.get(items.size() - 1).offset();
    }
}
