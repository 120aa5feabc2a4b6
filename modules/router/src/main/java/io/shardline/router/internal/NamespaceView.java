package io.shardline.router.internal;

import org.bson.Document;

import io.shardline.core.key.ShardKeyStrategy;
import io.shardline.core.routing.NamespaceRouting;
import io.shardline.router.api.RouterException;
import io.shardline.schemas.avro.WriteDurability;

/**
 * One request's consistent view of a namespace: its strategy and the routing as of the request's start, and the
 * targets of a filter under them. {@code routingVersion} was read before the routing, so the routing is at least
 * that recent. {@code durability} says when its writes are acknowledged: the namespace's own, or the request's.
 */
public record NamespaceView(String database, String collection, ShardKeyStrategy strategy, NamespaceRouting routing,
                            long routingVersion, WriteDurability durability) {

    public static NamespaceView of(RoutingState state, String namespace) {
        long version = state.version();
        int dot = namespace.indexOf('.');
        if (dot <= 0 || dot == namespace.length() - 1) {
            throw new RouterException(RouterException.Kind.BAD_REQUEST, "namespace must be <db>.<collection>, was '" + namespace + "'");
        }
        ShardKeyStrategy strategy = state.strategy(namespace).orElseThrow(() -> new RouterException(
            RouterException.Kind.NOT_FOUND, "namespace " + namespace + " is not sharded (no config on the config topic)"));
        NamespaceRouting routing = state.routing(namespace).orElseThrow(() -> new RouterException(
            RouterException.Kind.NOT_FOUND, "namespace " + namespace + " has no complete routing table yet"));
        return new NamespaceView(namespace.substring(0, dot), namespace.substring(dot + 1), strategy, routing, version,
            state.durability(namespace));
    }

    /** The same view, its writes acknowledged with {@code requested} instead; {@code null} keeps the namespace's. */
    public NamespaceView withDurability(WriteDurability requested) {
        return requested == null || requested == durability ? this
            : new NamespaceView(database, collection, strategy, routing, routingVersion, requested);
    }

    public String namespace() {
        return database + "." + collection;
    }

    public TargetPlan plan(Document filter) {
        return new Targeting(strategy).plan(filter);
    }

    public ShardTargets targets(Document filter) {
        return ShardTargets.of(routing, plan(filter));
    }
}
