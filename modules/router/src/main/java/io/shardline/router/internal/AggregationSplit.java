package io.shardline.router.internal;

import java.util.ArrayList;
import java.util.List;

import org.bson.Document;

import io.shardline.router.api.NotSupportedException;
import io.shardline.router.api.RouterException;

/**
 * Splits a pipeline into the part every shard runs and the part the router runs on the merged results: leading
 * {@code $match} and {@code $project} run on the shards (the matches also target shards); a {@code $sort} runs on the
 * shards and is merged, and so does a {@code $match} right after it; a following {@code $skip}/{@code $limit} becomes a top-(skip+limit) on each shard; a
 * {@code $group} or {@code $count} runs as partials on the shards and is finished at the router; everything after
 * runs at the router.
 */
record AggregationSplit(List<Document> shardStages, List<Document> routerStages, Document targetingFilter,
                        Document mergeSort, GroupMerge group, String countField) {

    static AggregationSplit of(List<Document> pipeline) {
        List<Document> shard = new ArrayList<>();
        List<Document> router = new ArrayList<>();
        List<Document> leadingMatches = new ArrayList<>();
        Document sort = null;
        GroupMerge group = null;
        String countField = null;
        boolean leading = true;
        boolean onShards = true;
        Integer window = null;
        int skipped = 0;
        for (int i = 0; i < pipeline.size(); i++) {
            Document stage = pipeline.get(i);
            if (stage.size() != 1) {
                throw new RouterException(RouterException.Kind.BAD_REQUEST, "pipeline[" + i + "]: a stage has exactly one field");
            }
            String name = stage.keySet().iterator().next();
            Object spec = stage.get(name);
            validate(i, name, spec);
            if (!onShards) {
                router.add(stage);
                continue;
            }
            switch (name) {
                case "$match" -> {
                    if (leading) {
                        leadingMatches.add((Document) spec);
                    }
                    if (router.isEmpty()) {
                        // Before any $skip/$limit a match commutes with the sort: the shards filter, with MongoDB's
                        // rules for arrays and embedded documents, and return their documents still sorted.
                        shard.add(stage);
                    } else {
                        onShards = false;
                        router.add(stage);
                    }
                }
                case "$project" -> {
                    leading = false;
                    if (sort == null) {
                        shard.add(stage);
                    } else {
                        onShards = false;
                        router.add(stage);
                    }
                }
                case "$sort" -> {
                    leading = false;
                    if (sort != null) {
                        onShards = false;
                        router.add(stage);
                    } else {
                        sort = (Document) spec;
                        shard.add(stage);
                    }
                }
                case "$skip", "$limit" -> {
                    leading = false;
                    router.add(stage);
                    if (sort == null) {
                        onShards = false;
                    } else if (name.equals("$skip")) {
                        skipped += ((Number) spec).intValue();
                    } else {
                        int limit = skipped + ((Number) spec).intValue();
                        window = window == null ? limit : Math.min(window, limit);
                    }
                }
                case "$group" -> {
                    leading = false;
                    if (!router.isEmpty()) {
                        onShards = false;
                        router.add(stage);
                    } else {
                        group = new GroupMerge((Document) spec, sort);
                        shard.add(group.partialStage());
                        onShards = false;
                    }
                }
                case "$count" -> {
                    leading = false;
                    if (!router.isEmpty()) {
                        router.add(stage);
                    } else {
                        countField = (String) spec;
                        shard.add(stage);
                    }
                    onShards = false;
                }
                default -> throw new NotSupportedException(
                    "pipeline[" + i + "]: stage " + name + " is not supported by the router");
            }
        }
        if (window != null && group == null && countField == null) {
            shard.add(new Document("$limit", window));
        }
        Document targeting = leadingMatches.isEmpty() ? new Document()
            : leadingMatches.size() == 1 ? leadingMatches.get(0) : new Document("$and", leadingMatches);
        return new AggregationSplit(shard, router, targeting, group == null && countField == null ? sort : null, group, countField);
    }

    private static void validate(int index, String name, Object spec) {
        boolean ok = switch (name) {
            case "$match", "$project", "$sort", "$group" -> spec instanceof Document;
            case "$skip", "$limit" -> spec instanceof Number n && n.intValue() >= 0;
            case "$count" -> spec instanceof String s && !s.isEmpty() && !s.startsWith("$");
            default -> true;
        };
        if (!ok) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "pipeline[" + index + "]: " + name + " has an invalid argument");
        }
    }
}
