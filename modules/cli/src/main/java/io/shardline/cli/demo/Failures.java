package io.shardline.cli.demo;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import com.mongodb.MongoException;

import io.shardline.router.api.RouterException;

/**
 * The workload's failed requests, counted by kind: the router's own refusal kind (a retryable fence or stale routing,
 * a shard error, ...) or, for a request over the wire protocol, MongoDB's error code the router answered with.
 */
final class Failures {

    private final Map<String, AtomicLong> byKind = new ConcurrentHashMap<>();
    private final AtomicLong total = new AtomicLong();

    void record(RuntimeException failure) {
        total.incrementAndGet();
        byKind.computeIfAbsent(kind(failure), key -> new AtomicLong()).incrementAndGet();
    }

    long total() {
        return total.get();
    }

    /** {@code "RETRYABLE 2, wire code 262 1"}: each kind with its count, sorted by kind; empty when none failed. */
    String summary() {
        return new TreeMap<>(byKind).entrySet().stream().map(entry -> entry.getKey() + " " + entry.getValue().get())
            .collect(Collectors.joining(", "));
    }

    private static String kind(RuntimeException failure) {
        if (failure instanceof RouterException router) {
            return router.kind().name();
        }
        if (failure instanceof MongoException mongo) {
            return "wire code " + mongo.getCode();
        }
        return failure.getClass().getSimpleName();
    }
}
