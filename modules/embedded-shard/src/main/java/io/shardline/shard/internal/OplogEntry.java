package io.shardline.shard.internal;

import java.time.Instant;

import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Document;

/**
 * One change, as recorded when the write happened.
 *
 * @param fullDocument      the document after the write (insert, update, replace), captured at write time
 * @param updateDescription {@code {updatedFields, removedFields, truncatedArrays}} of an update, else {@code null}
 */
record OplogEntry(long sequence, BsonTimestamp clusterTime, Instant wallTime, OpType op, String database,
                  String collection, Object documentId, Document fullDocument, Document updateDescription) {
}
