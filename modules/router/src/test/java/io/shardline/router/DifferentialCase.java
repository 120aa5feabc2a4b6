package io.shardline.router;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bson.Document;

/**
 * One query of the mixed-type differential test, kept in parts so that a failing query can be shrunk: each
 * {@link #smaller()} variant drops one filter clause, sort key, projection field, pipeline stage or accumulator, or
 * clears the skip or the limit.
 */
record DifferentialCase(Kind kind, String tenant, List<Document> clauses, Document sort, Document projection, int skip, int limit,
                        String key, List<Document> stages) {

    enum Kind { FIND, COUNT, DISTINCT, AGGREGATE }

    /** The filter the clauses make: none, one, or their {@code $and}. */
    Document filter() {
        return clauses.isEmpty() ? new Document() : clauses.size() == 1 ? clauses.get(0) : new Document("$and", clauses);
    }

    /** The pipeline: a {@code $match} of the filter, then the stages. */
    List<Document> pipeline() {
        List<Document> pipeline = new ArrayList<>();
        pipeline.add(new Document("$match", filter()));
        pipeline.addAll(stages);
        return pipeline;
    }

    String describe() {
        StringBuilder text = new StringBuilder(kind + " tenant=" + tenant + " filter=" + filter().toJson());
        switch (kind) {
            case FIND -> text.append(" sort=").append(sort == null ? null : sort.toJson()).append(" skip=").append(skip)
                .append(" limit=").append(limit).append(" projection=").append(projection == null ? null : projection.toJson());
            case DISTINCT -> text.append(" key=").append(key);
            case AGGREGATE -> text.append(" pipeline=").append(new Document("p", pipeline()).toJson());
            default -> { }
        }
        return text.toString();
    }

    /**
     * Whether the answer is defined: a skip or limit comes after a sort, and every sort ends its ties with a unique
     * field, as the generator makes them; shrinking keeps only such cases.
     */
    boolean defined() {
        if (kind == Kind.FIND && (sort == null ? skip > 0 || limit > 0 : !sort.containsKey("_id") && !sort.containsKey("at"))) {
            return false;
        }
        boolean sorted = false;
        for (Document stage : stages) {
            Document stageSort = stage.get("$sort", Document.class);
            if (stageSort != null) {
                if (!stageSort.containsKey("_id") && !stageSort.containsKey("at")) {
                    return false;
                }
                sorted = true;
            } else if ((stage.containsKey("$skip") || stage.containsKey("$limit")) && !sorted) {
                return false;
            }
        }
        return true;
    }

    List<DifferentialCase> smaller() {
        List<DifferentialCase> smaller = new ArrayList<>();
        for (int i = 0; i < clauses.size(); i++) {
            List<Document> fewer = new ArrayList<>(clauses);
            fewer.remove(i);
            smaller.add(new DifferentialCase(kind, tenant, fewer, sort, projection, skip, limit, key, stages));
        }
        if (sort != null && sort.size() > 1) {
            for (String path : sort.keySet()) {
                smaller.add(new DifferentialCase(kind, tenant, clauses, without(sort, path), projection, skip, limit, key, stages));
            }
        }
        if (projection != null) {
            smaller.add(new DifferentialCase(kind, tenant, clauses, sort, null, skip, limit, key, stages));
            if (projection.size() > 1) {
                for (String path : projection.keySet()) {
                    smaller.add(new DifferentialCase(kind, tenant, clauses, sort, without(projection, path), skip, limit, key, stages));
                }
            }
        }
        if (skip > 0) {
            smaller.add(new DifferentialCase(kind, tenant, clauses, sort, projection, 0, limit, key, stages));
        }
        if (limit > 0) {
            smaller.add(new DifferentialCase(kind, tenant, clauses, sort, projection, skip, 0, key, stages));
        }
        for (int i = 0; i < stages.size(); i++) {
            if (stages.size() > 1) {
                List<Document> fewer = new ArrayList<>(stages);
                fewer.remove(i);
                smaller.add(new DifferentialCase(kind, tenant, clauses, sort, projection, skip, limit, key, fewer));
            }
            Document group = stages.get(i).get("$group", Document.class);
            if (group != null && group.size() > 2) {
                for (String field : group.keySet()) {
                    if (!field.equals("_id")) {
                        List<Document> fewer = new ArrayList<>(stages);
                        fewer.set(i, new Document("$group", without(group, field)));
                        smaller.add(new DifferentialCase(kind, tenant, clauses, sort, projection, skip, limit, key, fewer));
                    }
                }
            }
        }
        return smaller.stream().filter(DifferentialCase::defined).toList();
    }

    private static Document without(Document document, String field) {
        Document copy = new Document();
        for (Map.Entry<String, Object> entry : document.entrySet()) {
            if (!entry.getKey().equals(field)) {
                copy.put(entry.getKey(), entry.getValue());
            }
        }
        return copy;
    }
}
