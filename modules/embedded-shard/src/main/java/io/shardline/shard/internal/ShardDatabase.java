package io.shardline.shard.internal;

import java.util.stream.Stream;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.memory.MemoryCollection;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import de.bwaldvogel.mongo.bson.Document;

/** A memory database whose collections sort with {@link KeyedSort}. */
final class ShardDatabase extends MemoryDatabase {

    ShardDatabase(String name, CursorRegistry cursors) {
        super(name, cursors);
    }

    @Override
    protected MemoryCollection openOrCreateCollection(String collectionName, CollectionOptions options) {
        return new SortingCollection(this, collectionName, options, cursorRegistry);
    }

    /** A memory collection whose finds with a sort read each document's sort values once. */
    static final class SortingCollection extends MemoryCollection {

        SortingCollection(MongoDatabase database, String name, CollectionOptions options, CursorRegistry cursors) {
            super(database, name, options, cursors);
        }

        @Override
        protected QueryResult matchDocumentsFromStream(Stream<Document> documents, Document query, Document orderBy, int skip, int limit,
                                                       int batchSize, Document fieldSelector) {
            KeyedSort order = KeyedSort.of(orderBy);
            if (order == null) {
                return super.matchDocumentsFromStream(documents, query, orderBy, skip, limit, batchSize, fieldSelector);
            }
            return matchDocumentsFromStream(query, documents, skip, limit, batchSize, order, fieldSelector);
        }
    }
}
