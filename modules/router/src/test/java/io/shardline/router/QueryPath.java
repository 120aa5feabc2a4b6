package io.shardline.router;

import java.util.ArrayList;
import java.util.List;

import org.bson.BsonValue;
import org.bson.Document;

import com.mongodb.MongoCommandException;
import com.mongodb.client.FindIterable;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoCollection;

import io.shardline.router.api.FindRequest;
import io.shardline.router.api.RouterException;
import io.shardline.router.internal.ReadPath;

/**
 * How a differential test sends its queries to the router: through the Java library (the tenant passed along), or over
 * the wire protocol with the MongoDB driver (the tenant in the filter, as a service connected to mongos names it;
 * finds paged in small batches). A refusal comes back as a {@link RouterException} either way.
 */
interface QueryPath {

    List<Document> find(String tenant, String namespace, FindRequest request);

    long count(String tenant, String namespace, Document filter);

    List<Object> distinct(String tenant, String namespace, String key, Document filter);

    List<Document> aggregate(String tenant, String namespace, List<Document> pipeline);

    static QueryPath library(ShardRouter router) {
        return new QueryPath() {
            @Override
            public List<Document> find(String tenant, String namespace, FindRequest request) {
                return router.find(tenant, namespace, request).documents();
            }

            @Override
            public long count(String tenant, String namespace, Document filter) {
                return router.count(tenant, namespace, filter, false);
            }

            @Override
            public List<Object> distinct(String tenant, String namespace, String key, Document filter) {
                return router.distinct(tenant, namespace, key, filter);
            }

            @Override
            public List<Document> aggregate(String tenant, String namespace, List<Document> pipeline) {
                return router.aggregate(tenant, namespace, pipeline, false).documents();
            }

            @Override
            public String toString() {
                return "library";
            }
        };
    }

    /** @param batchSize the finds' batch size: small, so that most finds take several getMores */
    static QueryPath wire(MongoClient client, String tenantField, int batchSize) {
        return new QueryPath() {
            @Override
            public List<Document> find(String tenant, String namespace, FindRequest request) {
                return translated(() -> {
                    FindIterable<Document> find = collection(namespace).find(scoped(tenant, request.filter())).skip(request.skip())
                        .limit(request.limit()).projection(request.projection()).batchSize(batchSize);
                    if (request.sort() != null) {
                        find.sort(request.sort());
                    }
                    return find.into(new ArrayList<>());
                });
            }

            @Override
            public long count(String tenant, String namespace, Document filter) {
                return translated(() -> collection(namespace).countDocuments(scoped(tenant, filter)));
            }

            @Override
            public List<Object> distinct(String tenant, String namespace, String key, Document filter) {
                return translated(() -> {
                    List<Object> values = new ArrayList<>();
                    for (BsonValue value : collection(namespace).distinct(key, scoped(tenant, filter), BsonValue.class)) {
                        values.add(ReadPath.toJava(value));
                    }
                    return values;
                });
            }

            @Override
            public List<Document> aggregate(String tenant, String namespace, List<Document> pipeline) {
                List<Document> scoped = new ArrayList<>();
                scoped.add(new Document("$match", new Document(tenantField, tenant)));
                scoped.addAll(pipeline);
                return translated(() -> collection(namespace).aggregate(scoped).batchSize(batchSize).into(new ArrayList<>()));
            }

            private Document scoped(String tenant, Document filter) {
                Document own = new Document(tenantField, tenant);
                return filter == null || filter.isEmpty() ? own : new Document("$and", List.of(own, filter));
            }

            private MongoCollection<Document> collection(String namespace) {
                int dot = namespace.indexOf('.');
                return client.getDatabase(namespace.substring(0, dot)).getCollection(namespace.substring(dot + 1));
            }

            @Override
            public String toString() {
                return "wire";
            }
        };
    }

    /** A wire error as the router's own refusal: the differential check tells refusals from failures by kind. */
    private static <T> T translated(java.util.function.Supplier<T> call) {
        try {
            return call.get();
        } catch (MongoCommandException e) {
            RouterException.Kind kind = switch (e.getErrorCode()) {
                case 2, 66, 72, 115 -> RouterException.Kind.BAD_REQUEST;
                case 13 -> RouterException.Kind.FORBIDDEN;
                case 26 -> RouterException.Kind.NOT_FOUND;
                case 262 -> RouterException.Kind.RETRYABLE;
                case 10334 -> RouterException.Kind.TOO_LARGE;
                default -> RouterException.Kind.SHARD_ERROR;
            };
            throw new RouterException(kind, e.getErrorMessage(), e);
        }
    }
}
